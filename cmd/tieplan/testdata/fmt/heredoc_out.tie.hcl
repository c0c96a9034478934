image "base" {
  description = <<EOT
  Indented text inside a heredoc
      is kept exactly,   spaces and all.
EOT
  script      = <<-SCRIPT
        set -eu
          echo "${var.name}"
    SCRIPT
  name        = "base"
}
