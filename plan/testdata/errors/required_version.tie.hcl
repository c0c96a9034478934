tieplan {
  required_version = ">= 99.0" # ERROR: Unsupported tieplan version
}

image "main" {
  elements = ["vm"]
}
