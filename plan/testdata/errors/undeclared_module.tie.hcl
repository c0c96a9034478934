module "cloud" {
  source = "./modules/basic"
  name   = "cloud"
}

image "main" {
  description = module.clod.name # ERROR: Reference to undeclared module call
  elements    = ["vm"]
}
