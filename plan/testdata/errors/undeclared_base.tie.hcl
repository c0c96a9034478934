base "debootstrap" "bookworm" {
  suite = "bookworm"
}

image "main" {
  base     = base.debootstrap.bokworm # ERROR: Reference to undeclared base
  elements = ["vm"]
}
