image "main" {
  elements = ["vm"]

  file "/etc/motd" {
    content = "hello\n"
    source  = "motd.txt" # ERROR: Conflicting arguments
  }
}
