# dynamic blocks make an image's nested blocks from a collection: artifact
# formats that are not literals, files from a map, scripts from a list.
variable "formats" {
  type    = list(string)
  default = ["qcow2", "vhd"]
}

locals {
  files = {
    "/etc/a" = "a\n"
    "/etc/b" = "b\n"
  }
}

image "main" {
  elements = ["vm"]

  file "/etc/static" {
    content = "static\n"
  }

  dynamic "file" {
    for_each = local.files
    labels   = [file.key]
    content {
      content = file.value
      after   = "post-install.d"
    }
  }

  dynamic "script" {
    for_each = ["10-one", "20-two"]
    iterator = s
    labels   = ["install.d", s.value]
    content {
      content = "#!/bin/sh\necho ${s.key}\n"
    }
  }

  dynamic "artifact" {
    for_each = toset(var.formats)
    labels   = [artifact.value]
    content {
      path = "out/main.${artifact.value}"
      size = "1G"
    }
  }
}
