# A module called by two blocks is decoded once: its errors appear once.
module "a" {
  source = "./modules/broken"
}

module "b" {
  source = "./modules/broken"
}
