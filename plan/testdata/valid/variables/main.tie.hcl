# Variables of every kind, set by defaults and by *.auto.tievars files
# (loaded in name order, so 20-override wins over 10-base).
variable "arch" {
  type        = string
  default     = "i386"
  description = "CPU architecture."

  validation {
    condition     = contains(["amd64", "arm64", "i386"], var.arch)
    error_message = "Unsupported architecture ${var.arch}."
  }

  validation {
    condition     = length(var.arch) > 3
    error_message = "Too short."
  }
}

variable "release" {
  type     = string
  nullable = false
}

variable "mirror" {
  type     = string
  default  = null
  nullable = true
}

variable "disk" {
  type = object({
    size     = optional(string, "4G")
    format   = optional(string, "qcow2")
    compress = optional(bool)
  })
  default = {}
}

variable "users" {
  type = list(object({
    name  = string
    shell = optional(string, "/bin/bash")
  }))
  default = []
}

variable "labels" {
  type    = map(string)
  default = { team = "infra" }
}

variable "debug" {
  type    = bool
  default = false
}

variable "copies" {
  type    = number
  default = 1
}

variable "anything" {
  description = "Untyped: takes whatever it is given."
  default     = ["a", 1, true]
}

variable "extra_packages" {
  type    = set(string)
  default = []
}

locals {
  user_names = [for u in var.users : "${u.name}:${u.shell}"]
}

image "main" {
  description = "${var.release} for ${var.arch}, ${var.copies} copies, debug=${var.debug}"
  arch        = var.arch
  elements    = ["vm"]
  packages    = sort(var.extra_packages)
  env = merge(var.labels, {
    DIB_RELEASE = var.release
    USERS       = join(",", local.user_names)
    MIRROR      = coalesce(var.mirror, "default")
  })

  artifact "qcow2" {
    size     = var.disk.size
    compress = var.disk.compress
  }
}
