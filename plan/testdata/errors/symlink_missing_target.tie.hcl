image "main" {
  elements = ["vm"]

  symlink "/etc/localtime" { # ERROR: Missing required argument
    owner = "root"
  }
}
