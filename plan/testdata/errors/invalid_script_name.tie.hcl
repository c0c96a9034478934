image "main" {
  elements = ["vm"]

  script "install.d" "50-setup.sh" { # ERROR: Invalid script name
    content = "#!/bin/sh\ntrue\n"
  }
}
