# Leading comment.
// Slash comment.
/* Block
   comment. */
image "base" { # trailing block comment
  # inside the block
  name                = "base" # line comment
  size_gb             = 20     // another
  /* before */ format = "raw"
}
