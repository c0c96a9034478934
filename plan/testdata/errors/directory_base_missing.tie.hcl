base "directory" "prepared" {
  path = "rootfs" # ERROR: Path not found
}

image "main" {
  base     = base.directory.prepared
  elements = ["vm"]
}
