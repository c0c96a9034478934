module "cloud" {
  source = "github.com/example/cloud-image" # ERROR: Unsupported module source
  name   = "cloud"
}
