image "main" {
  elements = ["vm"]

  file "/etc/motd" {
    content = "hello\n"
    after   = "finalise.d" # ERROR: Invalid phase
  }
}
