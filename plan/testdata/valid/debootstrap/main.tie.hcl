# A debootstrap base with every argument, and one with only the suite.
base "debootstrap" "bookworm" {
  suite      = "bookworm"
  mirror     = "http://deb.example.org/debian"
  variant    = "buildd"
  components = ["main", "contrib", "non-free-firmware"]
  include    = ["ca-certificates", "gnupg"]
  keyring    = "keys/debian.gpg"
}

base "debootstrap" "trixie" {
  suite = "trixie"
}

image "stable" {
  base     = base.debootstrap.bookworm
  elements = ["vm"]
}

image "testing" {
  base     = base.debootstrap.trixie
  arch     = "arm64"
  elements = ["vm", "block-device-efi"]
}
