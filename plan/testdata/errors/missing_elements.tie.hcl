# elements is required in every image block.
image "main" { # ERROR: Missing required argument
  arch = "amd64"
}
