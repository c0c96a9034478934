base "debootstrap" "debian" { # ERROR: Missing required argument
  mirror  = "http://deb.debian.org/debian"
  keyring = "keys/missing.gpg" # ERROR: Path not found
}

image "main" {
  base     = base.debootstrap.debian
  elements = ["vm"]
}
