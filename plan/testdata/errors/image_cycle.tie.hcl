image "a" { # ERROR: Cycle in references
  arch     = image.b.arch
  elements = ["vm"]
}

image "b" {
  arch     = image.a.arch
  elements = ["vm"]
}

image "c" {
  description = image.a.name
  elements    = ["vm"]
}
