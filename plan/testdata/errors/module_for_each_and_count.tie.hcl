module "cloud" {
  source   = "./modules/basic"
  for_each = toset(["azure", "gce"])
  count    = 2 # ERROR: Invalid combination of "count" and "for_each"
  name     = "cloud"
}
