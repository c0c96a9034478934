# Each bad element is reported where it is written.
image "main" {
  elements = [
    "vm",
    "../x", # ERROR: Invalid element name
    ".hidden", # ERROR: Invalid element name
    "vm", # WARNING: Duplicate element
  ]
}
