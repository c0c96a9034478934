image "main" {
  elements = ["vm"]

  artifact "qcow2" {
    path = "../out/main.qcow2" # ERROR: Invalid artifact path
  }

  artifact "raw" {
    size = "0G" # ERROR: Invalid size
  }

  artifact "tar" {
    compress = "yes please" # ERROR: Incorrect attribute value type
  }
}
