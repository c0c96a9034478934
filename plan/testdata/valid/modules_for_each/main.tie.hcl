# One module called once per cloud with for_each, its outputs used by the
# root module.
locals {
  clouds = {
    azure = { format = "vhd", size = "30G" }
    gce   = { format = "gce", size = "10G" }
    aws   = { format = "raw", size = "8G" }
  }
}

module "cloud" {
  source   = "./modules/cloud"
  for_each = local.clouds

  name   = each.key
  format = each.value.format
  size   = each.value.size
}

module "single" {
  source = "./modules/cloud"
  name   = "openstack"
  format = "qcow2"
}

module "by_set" {
  source   = "./modules/cloud"
  for_each = toset(["x", "y"])
  name     = "set-${each.value}"
  format   = "raw"
}

output "cloud_images" {
  value = { for k, m in module.cloud : k => m.image }
}

output "single" {
  value = module.single.image
}

image "index" {
  description = join(",", sort([for m in module.cloud : m.image]))
  elements    = ["vm"]
}
