# tieplan-test: var=arch # ERROR: Invalid --var option
variable "arch" {
  default = "amd64"
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
