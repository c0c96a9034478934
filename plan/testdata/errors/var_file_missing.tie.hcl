# tieplan-test: var-file-path=prod.tievars.hcl # ERROR: Failed to read variables file
image "main" {
  elements = ["vm"]
}
