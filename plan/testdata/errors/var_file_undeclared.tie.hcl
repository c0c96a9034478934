# tieplan-test: var-file=arch = "arm64"\nsuite = "trixie" # WARNING: Value for undeclared variable
variable "arch" {
  default = "amd64"
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
