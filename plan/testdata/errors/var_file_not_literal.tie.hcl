# tieplan-test: var-file=suite = var.other # ERROR: Variables not allowed
variable "suite" {
  type    = string
  default = "bookworm"
}

image "main" {
  description = var.suite
  elements    = ["vm"]
}
