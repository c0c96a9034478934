variable "index" {
  type = number

  # File functions in a module resolve against the module's directory, also
  # in validation conditions.
  validation {
    condition     = var.index >= 0 && fileexists("label.txt")
    error_message = "The index must not be negative."
  }
}

module "disk" {
  source = "./modules/disk"
  name   = "worker${var.index}"
}

image "worker" {
  description = "${trimspace(file("label.txt"))} ${var.index}"
  elements    = ["vm"]
  arch        = var.index % 2 == 0 ? "amd64" : "arm64"
  env = {
    HOSTNAME = "worker-${var.index}"
    DISK     = module.disk.path
  }

  artifact "qcow2" {}
}

output "host" {
  value = "worker-${var.index}"
}
