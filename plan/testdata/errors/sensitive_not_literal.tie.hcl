variable "secret" {
  default   = "x"
  sensitive = "maybe" # ERROR: Invalid value
}

image "main" {
  elements = ["vm"]
}
