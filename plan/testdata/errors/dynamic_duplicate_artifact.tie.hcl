image "main" {
  elements = ["vm"]

  artifact "qcow2" {}

  dynamic "artifact" {
    for_each = ["raw", "qcow2"]
    labels   = [artifact.value] # ERROR: Duplicate artifact block
    content {}
  }
}
