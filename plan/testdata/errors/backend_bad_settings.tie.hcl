tieplan {
  backend "oci" {
    repository  = "https://registry.example.com/cache:latest" # ERROR: Invalid backend setting
  }
}

image "main" {
  elements = ["vm"]
}
