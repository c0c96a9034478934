variable "arch" {
  default = "amd64"

  validation {
    condition     = var.arch # ERROR: Invalid validation result
    error_message = "Must be true."
  }
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
