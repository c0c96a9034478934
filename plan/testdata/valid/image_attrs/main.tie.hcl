# Every image argument.
base "debootstrap" "bookworm" {
  suite = "bookworm"
}

image "full" {
  description  = "An image with every argument set"
  base         = base.debootstrap.bookworm
  arch         = "aarch64"
  elements     = ["vm", "base"]
  skip_base    = false
  packages     = ["openssh-server", "curl"]
  install_type = "source"
  max_age      = "12h"
  env = {
    DIB_RELEASE   = "bookworm"
    DIB_DEBUG     = "1"
    _UNDERSCORED  = "yes"
  }
}

image "no_base" {
  elements  = ["ubuntu-minimal"]
  skip_base = true
  arch      = "aarch64"
}
