module "cloud" {
  source   = "./modules/basic"
  for_each = toset([1, 2]) # ERROR: Invalid for_each set argument
  name     = "cloud"
}
