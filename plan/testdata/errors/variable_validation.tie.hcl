variable "arch" {
  type    = string
  default = "sparc" # ERROR: Invalid value for variable

  validation {
    condition     = contains(["amd64", "arm64"], var.arch)
    error_message = "The arch must be amd64 or arm64."
  }
}

image "main" {
  arch     = var.arch
  elements = ["vm"]
}
