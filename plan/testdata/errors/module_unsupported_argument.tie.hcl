module "cloud" {
  source = "./modules/basic"
  name   = "cloud"
  sise   = 4 # ERROR: Unsupported argument
}
