# Every artifact format, with and without path, size, compress and options.
image "disk" {
  elements = ["vm"]

  artifact "qcow2" {
    path     = "out/disk.qcow2"
    size     = "4G"
    compress = false
    options  = { cluster_size = "65536", lazy_refcounts = "on" }
  }

  artifact "raw" {
    size = 2
  }

  artifact "vhd" {
    size = "512M"
  }

  artifact "vmdk" {
    path    = "out/disk.vmdk"
    size    = "1.5G"
    options = { subformat = "streamOptimized" }
  }

  artifact "gce" {}
}

image "archive" {
  elements = ["vm"]

  artifact "tar" {}

  artifact "tgz" {
    path = "out/archive.tgz"
  }

  artifact "squashfs" {
    compress = true
  }

  artifact "oci" {
    path = "out/archive.oci.tar"
  }
}
