tieplan {
  backend "oci" {
    repository = "127.0.0.1:5000/cache"
  }
  backend "local" { # ERROR: Duplicate backend block
  }
}

image "main" {
  elements = ["vm"]
}
