# The bad key itself is the subject, not the whole map.
image "main" {
  elements = ["vm"]
  env = {
    DIB_RELEASE   = "bookworm"
    "DIB-MIRROR"  = "http://deb.debian.org/debian" # ERROR: Invalid environment variable name
    "1ST"         = "x" # ERROR: Invalid environment variable name
  }
}
