variable "repo" {
  default = "127.0.0.1:5000/cache"
}

tieplan {
  backend "oci" {
    repository = var.repo # ERROR: Variables not allowed
  }
}

image "main" {
  elements = ["vm"]
}
