# file, directory and symlink blocks with every argument.
image "main" {
  elements = ["vm"]

  file "/etc/motd" {
    source = "files/motd"
  }

  file "/etc/issue.net" {
    content = "Welcome\n"
    mode    = "0600"
    owner   = "daemon"
    group   = "adm"
    after   = "post-install.d"
  }

  file "/usr/local/bin/hello" {
    content = "#!/bin/sh\necho hello\n"
    mode    = "755"
    owner   = "0"
    group   = "0"
    after   = "root.d"
  }

  directory "/srv/data" {}

  directory "/var/lib/app/" {
    mode  = "0750"
    owner = "www-data"
    group = "www-data"
    after = "pre-install.d"
  }

  symlink "/etc/localtime" {
    target = "/usr/share/zoneinfo/UTC"
  }

  symlink "/usr/local/bin/hi" {
    target = "hello"
    owner  = "root"
    group  = "staff"
    after  = "post-root.d"
  }
}
