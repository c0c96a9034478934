module "again" {
  source = "./" # ERROR: Module calls itself
}

image "main" {
  elements = ["vm"]
}
