image "main" {
  elements = ["vm"]

  file "/etc/motd" {
    content = "hello\n"
    mode    = "0849" # ERROR: Invalid mode
  }
}
