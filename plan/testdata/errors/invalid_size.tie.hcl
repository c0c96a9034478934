image "main" {
  elements = ["vm"]

  artifact "raw" {
    size = "4 gigs" # ERROR: Invalid size
  }
}
