image "main" {
  elements = ["vm"]

  artifact "qcow" { # ERROR: Unknown artifact format
    path = "main.qcow2"
  }
}
