variable "password" {
  type      = string
  sensitive = true
  default   = "hunter2"
}

output "password" {
  value = var.password # ERROR: Output refers to sensitive values
}

image "main" {
  elements = ["vm"]
}
