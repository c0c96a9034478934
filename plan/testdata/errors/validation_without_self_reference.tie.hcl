variable "arch" {
  default = "amd64"

  validation {
    condition     = true # ERROR: Invalid variable validation condition
    error_message = "Always fine."
  }
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
