image "main" {
  elements = ["vm"]

  file "etc/motd" { # ERROR: Relative path in file block
    content = "hello\n"
  }
}
