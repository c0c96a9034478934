image "base" {
  tags = {
  team = "platform"
      environment = "dev"
  }
  list = [1,2,   3]
  cond = var.a?"x":"y"
  expr = 1+2*3
}
