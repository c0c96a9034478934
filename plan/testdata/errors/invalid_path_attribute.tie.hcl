image "main" {
  elements = ["vm"]

  file "/etc/motd" {
    source = "${path.modul}/motd" # ERROR: Invalid "path" attribute
  }
}
