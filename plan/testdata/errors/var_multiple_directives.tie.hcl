# Diagnostics about several command-line inputs land on their directives;
# a value that is well-formed but wrong is reported where it is used.
# tieplan-test: var=sise=4 # ERROR: Value for undeclared variable
# tieplan-test: env=TIEPLAN_VAR_size=big # ERROR: Invalid value for variable
# tieplan-test: var-file=copies = "many" # ERROR: Invalid value for variable
# tieplan-test: auto-var-file=arhc = "amd64" # WARNING: Value for undeclared variable
# tieplan-test: var=arch=sparc
variable "size" {
  type    = number
  default = 2
}

variable "copies" {
  type    = number
  default = 1
}

variable "arch" {
  type    = string
  default = "amd64"
}

image "main" {
  arch     = var.arch # ERROR: Unknown architecture
  elements = ["vm"]
  packages = [for i in range(var.copies) : "pkg${i}"]

  artifact "raw" {
    size = var.size
  }
}
