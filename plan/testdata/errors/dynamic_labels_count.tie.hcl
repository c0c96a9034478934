image "main" {
  elements = ["vm"]

  dynamic "script" {
    for_each = ["10-a"]
    labels   = [script.value] # ERROR: Invalid dynamic block labels
    content {
      content = "#!/bin/sh\n"
    }
  }
}
