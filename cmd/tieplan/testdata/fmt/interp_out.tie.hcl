locals {
  base    = var.base_image
  spaced  = var.release
  called  = upper(var.name)
  nested  = format("%s-%s", "${var.a}", var.b)
  mixed   = "prefix-${var.name}"
  two     = "${var.a}${var.b}"
  escaped = "$${not_interpolated}"
  control = "%{if var.debug}debug%{endif}"
  multi = "${
    var.a
  }"
}
