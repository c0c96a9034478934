# A NUL or a ".." in an element name or an artifact path is refused where
# it is written: it would end the name early in a system call, or leave
# the element search path or the configuration directory.
image "main" {
  elements = [
    "vm",
    "vm\u0000../../etc", # ERROR: Invalid element name
    "..", # ERROR: Invalid element name
  ]

  artifact "qcow2" {
    path = "out/main\u0000.qcow2" # ERROR: Invalid artifact path
  }

  artifact "raw" {
    path = "/srv/images/../../etc/main.raw" # ERROR: Invalid artifact path
  }
}
