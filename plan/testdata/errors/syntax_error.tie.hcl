image "main" {
  elements = ["vm"]
  arch = = "amd64" # ERROR: Invalid expression
}
