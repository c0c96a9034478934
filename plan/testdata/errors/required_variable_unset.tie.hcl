variable "suite" { # ERROR: No value for required variable
  type = string
}

image "main" {
  description = var.suite
  elements    = ["vm"]
}
