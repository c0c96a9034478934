module "cloud" {
  source = "./modules/basic"
  count  = -1 # ERROR: Invalid count argument
  name   = "cloud"
}
