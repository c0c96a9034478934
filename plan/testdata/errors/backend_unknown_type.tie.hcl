tieplan {
  backend "s3" { # ERROR: Unknown backend type
    repository = "bucket/path"
  }
}

image "main" {
  elements = ["vm"]
}
