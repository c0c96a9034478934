image "main" {
  elements = ["vm"]

  script "install.d" "50-setup" {
    source = "scripts/setup.sh" # ERROR: Source file not found
  }
}
