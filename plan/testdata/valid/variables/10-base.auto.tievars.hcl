arch    = "arm64"
release = "bookworm"
users = [
  { name = "alice" },
  { name = "bob", shell = "/bin/zsh" },
]
