module "cloud" {
  source = "./modules/clod" # ERROR: Module source does not exist
}
