module "cloud" { # ERROR: Missing required argument
  source = "./modules/basic"
  size   = 4
}
