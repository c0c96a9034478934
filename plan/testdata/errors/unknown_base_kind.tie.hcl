base "debootsrap" "bookworm" { # ERROR: Unknown base kind
  suite = "bookworm"
}

image "main" {
  elements = ["vm"]
}
