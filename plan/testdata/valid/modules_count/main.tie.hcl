# A module called with count, which itself calls a module: addresses nest.
variable "workers" {
  type    = number
  default = 2
}

module "worker" {
  source = "./modules/worker"
  count  = var.workers
  index  = count.index
}

module "none" {
  source = "./modules/worker"
  count  = 0
  index  = 99
}

output "hosts" {
  value = [for w in module.worker : w.host]
}

output "none" {
  value = length(module.none)
}
