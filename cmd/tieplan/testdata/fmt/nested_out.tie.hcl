image "web" {
  name = "web"
  layer "packages" {
    element "apt" {
      packages = ["nginx", "curl"]
    }
  }
  provisioner {
    command = "true"
  }
}
