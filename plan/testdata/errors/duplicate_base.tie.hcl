base "debootstrap" "debian" {
  suite = "bookworm"
}

base "debootstrap" "debian" { # ERROR: Duplicate base
  suite = "trixie"
}

image "main" {
  base     = base.debootstrap.debian
  elements = ["vm"]
}
