module "cloud" {
  source = "./modules/basic"
  count  = "two" # ERROR: Invalid count argument
  name   = "cloud"
}
