# Three locals that refer to each other in a ring.
locals {
  a = "${local.c}-a" # ERROR: Cycle in local values
  b = "${local.a}-b"
  c = "${local.b}-c"
}

image "main" {
  description = local.a
  elements    = ["vm"]
}
