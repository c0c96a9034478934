# Sensitive values: hidden in env, file contents and outputs, also when they
# pass through a module.
variable "root_password" {
  type      = string
  default   = "correct-horse-battery"
  sensitive = true
}

variable "api_token" {
  type      = string
  sensitive = true
}

variable "user" {
  type    = string
  default = "admin"
}

module "db" {
  source   = "./modules/db"
  password = var.root_password
}

image "main" {
  elements = ["vm"]
  env = {
    ROOT_PASSWORD = var.root_password
  }

  file "/etc/app/token" {
    content = "token=${var.api_token}\n"
    mode    = "0600"
  }

  file "/etc/app/user" {
    content = var.user
  }
}

output "token" {
  value     = var.api_token
  sensitive = true
}

output "db_password_length" {
  value     = module.db.password_length
  sensitive = true
}
