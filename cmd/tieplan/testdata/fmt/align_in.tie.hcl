image "base" {
  name = "ubuntu"
  release    = "noble"
  size_gb = 20
  # a comment between groups breaks the alignment run

  architecture="amd64"
  format =   "qcow2"
}
