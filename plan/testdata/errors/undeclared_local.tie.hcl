locals {
  elements = ["vm"]
}

image "main" {
  elements = local.element # ERROR: Reference to undeclared local value
}
