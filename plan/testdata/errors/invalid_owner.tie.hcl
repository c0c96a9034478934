image "main" {
  elements = ["vm"]

  directory "/srv/www" {
    owner = "Web Server" # ERROR: Invalid owner
    group = "www-data"
  }
}
