variable "name" {
  type = string
}

image "scratch" {
  elements = ["vm"]

  artifact "raw" {
    path = "disks/${var.name}.raw"
    size = "1G"
  }
}

output "path" {
  value = "disks/${var.name}.raw"
}
