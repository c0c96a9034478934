module "cloud" {
  source = "./modules/basic"
  name   = "a"
}

module "cloud" { # ERROR: Duplicate module call
  source = "./modules/basic"
  name   = "b"
}
