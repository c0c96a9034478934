base "tarball" "rootfs" {
  url = "https://example.com/rootfs.tar.gz" # ERROR: Missing sha256
}

image "main" {
  base     = base.tarball.rootfs
  elements = ["vm"]
}
