variable "suite" {
  type     = string
  nullable = false
  default  = null # ERROR: Invalid default value for variable
}

image "main" {
  description = var.suite
  elements    = ["vm"]
}
