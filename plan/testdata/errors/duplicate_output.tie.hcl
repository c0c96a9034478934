image "main" {
  elements = ["vm"]
}

output "arch" {
  value = image.main.arch
}

output "arch" { # ERROR: Duplicate output
  value = "amd64"
}
