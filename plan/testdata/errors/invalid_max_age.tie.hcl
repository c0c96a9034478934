tieplan {
  max_age = "a month" # ERROR: Invalid duration
}

image "main" {
  elements = ["vm"]
  max_age  = "-3d" # ERROR: Invalid duration
}
