# The tieplan block with every setting.
tieplan {
  required_version = ">= 0.1.0, < 1.0.0"
  element_paths    = ["elements", "${path.root}/more-elements"]
  cache_dir        = ".cache/tieplan"
  parallelism      = 4
  max_age          = "30d"

  backend "oci" {
    repository  = "registry.example.com:5000/team/tieplan-cache"
    compression = "gzip"
    insecure    = true
  }
}

image "main" {
  elements = ["vm", "my-element"]
}
