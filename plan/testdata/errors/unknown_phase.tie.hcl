image "main" {
  elements = ["vm"]

  script "instal.d" "50-setup" { # ERROR: Unknown phase
    content = "#!/bin/sh\ntrue\n"
  }
}
