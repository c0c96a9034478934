image "main" {
  elements = ["vm"]

  fille "/etc/motd" { # ERROR: Unsupported block type
    content = "x"
  }

  artifact "qcow2" {
    sise = "4G" # ERROR: Unsupported argument
  }
}
