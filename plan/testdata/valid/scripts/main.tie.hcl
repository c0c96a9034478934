# Inline element scripts: content and source, in several phases.
image "main" {
  elements = ["vm"]

  script "root.d" "10-prepare" {
    content = <<-SH
      #!/bin/bash
      set -eu
      echo preparing
    SH
  }

  script "install.d" "50-setup" {
    source = "scripts/setup.sh"
  }

  script "finalise.d" "99_cleanup" {
    content = "#!/bin/sh\nrm -rf /tmp/*\n"
  }

  script "cleanup.d" "01-report" {
    source = "./scripts/report.sh"
  }
}
