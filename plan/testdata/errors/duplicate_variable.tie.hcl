variable "arch" {
  default = "amd64"
}

variable "arch" { # ERROR: Duplicate variable
  default = "arm64"
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
