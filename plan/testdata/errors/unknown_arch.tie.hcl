image "main" {
  arch     = "amd46" # ERROR: Unknown architecture
  elements = ["vm"]
}
