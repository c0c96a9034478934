variable "arch" {
  default = "amd64"
}

image "main" {
  arch     = var.ach # ERROR: Reference to undeclared input variable
  elements = ["vm"]
}
