# file, directory and symlink blocks share one namespace of paths.
image "main" {
  elements = ["vm"]

  file "/etc/app" {
    content = "x"
  }

  directory "/etc/app" { # ERROR: Duplicate directory block
    mode = "0755"
  }
}
