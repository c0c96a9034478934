image "base" {
  name = "base"
}