image "main" {
  elements = ["vm"]

  dynamic "artifact" {
    for_each = "raw" # ERROR: Invalid dynamic for_each value
    labels   = [artifact.value]
    content {}
  }
}
