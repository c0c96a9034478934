# The module (created by the test) sets parallelism in its tieplan block.
module "cloud" {
  source = "./modules/settings"
}
