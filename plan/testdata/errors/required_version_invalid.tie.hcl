tieplan {
  required_version = "newest" # ERROR: Invalid required_version
}

image "main" {
  elements = ["vm"]
}
