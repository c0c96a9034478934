# The module (created by the test) outputs a sensitive value without
# sensitive = true.
module "db" {
  source   = "./modules/db"
  password = "hunter2-hunter2"
}
