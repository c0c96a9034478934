# An error in a called module is reported in the module's file.
module "cloud" {
  source = "./modules/broken"
}
