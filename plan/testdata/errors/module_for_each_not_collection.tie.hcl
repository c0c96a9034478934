module "cloud" {
  source   = "./modules/basic"
  for_each = "azure" # ERROR: Invalid for_each argument
  name     = each.key
}
