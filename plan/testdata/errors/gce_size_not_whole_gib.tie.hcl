image "main" {
  elements = ["vm"]

  artifact "gce" {
    size = "1500M" # ERROR: Invalid disk size
  }
}
