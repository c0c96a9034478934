image "main" {
  base     = "debootstrap.bookworm" # ERROR: Invalid base reference
  elements = ["vm"]
}
