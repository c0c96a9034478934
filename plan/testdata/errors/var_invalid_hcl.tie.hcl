# tieplan-test: var=packages=["vim", # ERROR: Missing expression
variable "packages" {
  type    = list(string)
  default = []
}

image "main" {
  elements = ["vm"]
  packages = var.packages
}
