# A misspelled top-level block type is reported with a suggestion.
imag "main" { # ERROR: Unsupported block type
  elements = ["vm"]
}
