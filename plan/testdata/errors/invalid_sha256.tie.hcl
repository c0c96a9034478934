base "tarball" "rootfs" {
  url    = "https://example.com/rootfs.tar.gz"
  sha256 = "ABCDEF" # ERROR: Invalid sha256
}

image "main" {
  base     = base.tarball.rootfs
  elements = ["vm"]
}
