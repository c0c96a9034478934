image "my image" { # ERROR: Invalid image name
  elements = ["vm"]
}
