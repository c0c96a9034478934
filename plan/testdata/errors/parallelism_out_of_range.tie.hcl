tieplan {
  parallelism   = 0 # ERROR: Invalid parallelism
  element_paths = ["elements", ""] # ERROR: Invalid element path
}

image "main" {
  elements = ["vm"]
}
