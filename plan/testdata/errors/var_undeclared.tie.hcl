# tieplan-test: var=ach=arm64 # ERROR: Value for undeclared variable
variable "arch" {
  default = "amd64"
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
