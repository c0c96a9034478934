variable "count" { # ERROR: Invalid variable name
  default = 1
}

image "main" {
  elements = ["vm"]
}
