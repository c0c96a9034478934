# An already formatted file is left byte for byte as it is.

variable "release" {
  type    = string
  default = "noble"
}

image "base" {
  name    = "base-${var.release}"
  release = var.release
  size_gb = 20

  layer "packages" {
    element "apt" {
      packages = ["curl", "vim"]
    }
  }
}
