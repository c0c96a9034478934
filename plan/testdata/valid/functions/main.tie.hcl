# Functions: the cty standard library plus file functions, relative to the
# module directory, and path.module / path.root.
locals {
  motd_template = "templates/motd.tftpl"
  hostname      = trimspace(file("templates/hostname"))
  greeting      = templatefile(local.motd_template, { name = upper(local.hostname), items = ["a", "b"] })
  digest        = filesha256("templates/hostname")
  template_dir  = basename(dirname(abspath(local.motd_template)))
  same_dir      = abspath(".") == path.module && path.module == path.root
  numbers       = [for n in range(3) : n * 2]
  lookup        = lookup({ amd64 = "x86_64" }, "amd64", "unknown")
  formatted     = format("%s-%03d", "build", 7)
  joined        = join("+", compact(["a", "", "b"]))
  encoded       = jsonencode({ k = "v" })
  replaced      = replace("a.b.c", ".", "/")
  has_file      = fileexists("templates/hostname")
  tried         = try(tonumber("x"), -1)
}

image "main" {
  description = "${local.hostname} ${local.digest}"
  elements    = ["vm"]
  env = {
    TEMPLATE_DIR = local.template_dir
    SAME_DIR     = tostring(local.same_dir)
    NUMBERS      = join(",", local.numbers)
    LOOKUP       = local.lookup
    FORMATTED    = local.formatted
    JOINED       = local.joined
    ENCODED      = local.encoded
    REPLACED     = local.replaced
    HAS_FILE     = tostring(local.has_file)
    TRIED        = tostring(local.tried)
    BASENAME     = basename(path.module) == "functions" ? "yes" : "no"
  }

  file "/etc/motd" {
    content = local.greeting
  }

  file "/etc/hostname" {
    content = file("templates/hostname")
  }
}
