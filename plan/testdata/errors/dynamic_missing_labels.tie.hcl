image "main" {
  elements = ["vm"]

  dynamic "artifact" { # ERROR: Missing dynamic block labels
    for_each = ["raw"]
    content {}
  }
}
