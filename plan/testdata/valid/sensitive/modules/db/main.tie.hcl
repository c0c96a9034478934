variable "password" {
  type      = string
  sensitive = true
}

image "db" {
  elements = ["vm", "postgres"]
  env = {
    PGPASSWORD = var.password
    PGUSER     = "postgres"
  }
}

output "password_length" {
  value     = length(var.password)
  sensitive = true
}
