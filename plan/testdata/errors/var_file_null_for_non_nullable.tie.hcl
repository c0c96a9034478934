# tieplan-test: var-file=suite = null # ERROR: Required variable not set
variable "suite" {
  type     = string
  nullable = false
}

image "main" {
  description = var.suite
  elements    = ["vm"]
}
