image "base" {
  name = "base"
}
