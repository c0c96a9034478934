image "main" {
  elements = ["vm"]

  file "/etc/../root/.profile" { # ERROR: Invalid path
    content = "umask 022\n"
  }
}
