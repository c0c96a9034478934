image "main" {
  elements = ["vm"]
}

locals {
  main_arch = image.mian.arch # ERROR: Reference to undeclared image
}

image "other" {
  arch     = local.main_arch
  elements = ["vm"]
}
