image "main" {
  elements = ["vm"]

  artifact "qcow2" {
    path = "a.qcow2"
  }

  artifact "qcow2" { # ERROR: Duplicate artifact block
    path = "b.qcow2"
  }
}
