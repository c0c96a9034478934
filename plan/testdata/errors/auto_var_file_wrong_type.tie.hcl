# tieplan-test: auto-var-file=packages = "vim" # ERROR: Invalid value for variable
variable "packages" {
  type    = list(string)
  default = []
}

image "main" {
  elements = ["vm"]
  packages = var.packages
}
