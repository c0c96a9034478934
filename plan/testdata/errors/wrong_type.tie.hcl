# skip_base is a bool; a list cannot be converted to one.
image "main" {
  elements  = ["vm"]
  skip_base = ["yes"] # ERROR: Incorrect attribute value type
}
