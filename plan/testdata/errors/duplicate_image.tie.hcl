image "main" {
  elements = ["vm"]
}

image "main" { # ERROR: Duplicate image
  elements = ["vm", "base"]
}
