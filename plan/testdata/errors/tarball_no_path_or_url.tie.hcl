base "tarball" "rootfs" { # ERROR: Tarball base needs path or url
  sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
}

image "main" {
  base     = base.tarball.rootfs
  elements = ["vm"]
}
