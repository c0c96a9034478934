variable "name" {
  type = string
}

variable "format" {
  type = string
}

variable "size" {
  type    = string
  default = "4G"
}

image "main" {
  description = "${var.name} image from ${path.module == path.root ? "root" : "module"}"
  elements    = ["vm", "cloud-init"]
  env = {
    CLOUD  = var.name
    FORMAT = var.format
  }

  file "/etc/cloud/name" {
    source = "files/name.txt"
  }

  artifact "raw" {
    path = "out/${var.name}.raw"
    size = var.size
  }
}

output "image" {
  value = image.main.address
}
