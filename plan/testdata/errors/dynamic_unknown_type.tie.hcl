image "main" {
  elements = ["vm"]

  dynamic "artefact" { # ERROR: Unsupported dynamic block type
    for_each = ["raw"]
    labels   = [artefact.value]
    content {}
  }
}
