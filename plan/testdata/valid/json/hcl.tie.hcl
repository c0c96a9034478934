# HCL and JSON files of one directory form one module.
image "from_hcl" {
  base     = base.debootstrap.json
  elements = local.elements
}
