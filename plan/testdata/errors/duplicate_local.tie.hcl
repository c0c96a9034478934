locals {
  elements = ["vm"]
}

locals {
  elements = ["base"] # ERROR: Duplicate local value
}

image "main" {
  elements = local.elements
}
