# A directory base: a root filesystem prepared on this machine.
base "directory" "prepared" {
  path = "rootfs"
}

image "main" {
  base     = base.directory.prepared
  arch     = "x86_64"
  elements = ["vm"]
}
