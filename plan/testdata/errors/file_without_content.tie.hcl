image "main" {
  elements = ["vm"]

  file "/etc/motd" { # ERROR: Missing file content
    mode = "0644"
  }

  script "install.d" "10-x" {
    content = "#!/bin/sh\n"
    source  = "x.sh" # ERROR: Conflicting arguments
  }
}
