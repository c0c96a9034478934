module "cloud" { # ERROR: Missing required argument
  name = "cloud"
}
