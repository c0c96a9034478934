tieplan {
  parallelism = 2
}

tieplan { # ERROR: Duplicate tieplan block
  cache_dir = ".cache"
}

image "main" {
  elements = ["vm"]
}
