image "main" {
  elements = ["vm"]

  directory "/srv/data" {
    mode = 755 # ERROR: Invalid mode
  }
}
