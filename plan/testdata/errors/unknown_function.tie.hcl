image "main" {
  description = uper("main") # ERROR: Call to unknown function
  elements    = ["vm"]
}
