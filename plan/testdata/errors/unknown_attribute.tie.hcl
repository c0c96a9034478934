# A misspelled argument is reported with a suggestion.
image "main" {
  elements    = ["vm"]
  descripton  = "typo" # ERROR: Unsupported argument
}
