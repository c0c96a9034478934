arch           = "amd64"
debug          = true
extra_packages = ["vim", "curl", "vim"]
