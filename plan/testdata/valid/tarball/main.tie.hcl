# Tarball bases: a file next to the configuration, pinned with filesha256,
# and a download pinned with a literal digest.
base "tarball" "local" {
  path   = "rootfs.tar"
  sha256 = filesha256("rootfs.tar")
}

base "tarball" "remote" {
  url    = "https://images.example.com/rootfs-2024.tar.gz"
  sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}

image "from_file" {
  base     = base.tarball.local
  elements = ["vm"]
}

image "from_url" {
  base      = base.tarball.remote
  elements  = ["vm"]
  skip_base = true
}
