release = "noble"
size_gb=20
image_name =   "${prefix}-base"
packages = [
"curl",
    "vim",
]
tags = {
  team="platform"
  env = "dev"
}
