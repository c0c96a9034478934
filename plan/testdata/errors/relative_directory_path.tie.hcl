image "main" {
  elements = ["vm"]

  directory "var/lib/app" { # ERROR: Relative path in directory block
  }

  symlink "/" { # ERROR: Invalid path
    target = "/srv"
  }
}
