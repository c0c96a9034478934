# One Debian bookworm cloud image, built for five clouds: a module called
# with for_each, one instance per cloud. Every instance has the same
# elements and environment, so the chain up to the last post-install.d
# script is one set of steps, built once; each cloud then adds its own
# cloud-init configuration (a file block, after post-install.d), its own
# disk assembly and the disk format its cloud imports.

tieplan {
  required_version = ">= 0.1.0"
}

variable "size" {
  type        = string
  default     = "2G"
  description = "Disk size of every image: whole GiB, as GCE requires."
}

locals {
  # cloud => the format its image service imports, and its file name.
  clouds = {
    # tieplan writes vhd fixed and sized in whole MiB, vmdk
    # streamOptimized, gce as disk.raw in a gzipped tar.
    openstack = { format = "qcow2", path = "openstack.qcow2" }
    azure     = { format = "vhd", path = "azure.vhd" }
    vmware    = { format = "vmdk", path = "vmware.vmdk" }
    gce       = { format = "gce", path = "gce.tar.gz" }
    aws       = { format = "raw", path = "aws.raw" }
  }
}

module "cloud_image" {
  source   = "./modules/cloud-image"
  for_each = local.clouds

  cloud  = each.key
  format = each.value.format
  path   = "out/${each.value.path}"
  size   = var.size
}

output "images" {
  value = { for cloud, m in module.cloud_image : cloud => m.image }
}
