output "suite" {
  value = "bookworm"
}

image "main" {
  description = output.suite # ERROR: Invalid reference
  elements    = ["vm"]
}
