image "base" {
  name = "base"
}



