# The smallest configuration: one image, its elements, defaults for the rest.
image "main" {
  elements = ["vm", "debian-minimal"]
}
