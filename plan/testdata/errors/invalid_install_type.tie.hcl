image "main" {
  elements     = ["vm"]
  install_type = "Source" # ERROR: Invalid install type
}
