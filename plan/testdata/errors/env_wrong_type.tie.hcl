# tieplan-test: env=TIEPLAN_VAR_size=["big"] # ERROR: Invalid value for variable
variable "size" {
  type    = number
  default = 2
}

image "main" {
  elements = ["vm"]

  artifact "raw" {
    size = var.size
  }
}
