variable "clouds" {
  type      = set(string)
  default   = ["azure"]
  sensitive = true
}

module "cloud" {
  source   = "./modules/basic"
  for_each = var.clouds # ERROR: Invalid for_each argument
  name     = each.key
}
