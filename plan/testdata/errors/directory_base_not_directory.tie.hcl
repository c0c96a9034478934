base "directory" "prepared" {
  path = "main.tie.hcl" # ERROR: Not a directory
}

image "main" {
  base     = base.directory.prepared
  elements = ["vm"]
}
