module "cloud" {
  source = "./modules/basic"
  name   = "cloud"
  size   = "large" # ERROR: Invalid value for variable
}
