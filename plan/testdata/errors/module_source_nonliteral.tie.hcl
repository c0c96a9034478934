variable "which" {
  default = "basic"
}

module "cloud" {
  source = "./modules/${var.which}" # ERROR: Invalid module source
  name   = "cloud"
}
