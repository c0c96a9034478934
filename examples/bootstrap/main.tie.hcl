# The founding example of tripleo-image-elements, expressed for tieplan:
#
#   disk-image-create -u base vm bootstrap local-config stackuser heat-cfntools -a i386 -o bootstrap
#
# It builds an image that can itself build images, with a `stack` user and
# heat-cfntools, as an uncompressed qcow2 (-u).

tieplan {
  required_version = ">= 0.1.0"
}

variable "arch" {
  type        = string
  default     = "i386"
  description = "CPU architecture of the image (-a): i386, as the original, or amd64."

  validation {
    condition     = contains(["i386", "amd64"], var.arch)
    error_message = "The bootstrap image is built for i386 or amd64."
  }
}

variable "suite" {
  type        = string
  default     = "bookworm"
  description = "Debian release to install."
}

variable "security_updates" {
  type        = bool
  default     = true
  description = "Install Debian's security updates (the <suite>-security archive). Turn off only where the mirror serves a broken security index."
}

locals {
  # disk-image-create's positional arguments, in the order the seed gave them.
  seed_elements = ["base", "vm", "bootstrap", "local-config", "stackuser", "heat-cfntools"]
}

image "bootstrap" {
  description = "An image that builds images: the seed of a TripleO deployment."
  arch        = var.arch
  # In 2013 DIB added a distribution element by itself; today one is needed.
  # debian-minimal debootstraps the release named by DIB_RELEASE.
  elements = concat(local.seed_elements, ["debian-minimal"])

  env = merge({
    DIB_RELEASE = var.suite
    # Debian's diskimage-builder 3.13 still points bookworm's security
    # updates at the pre-bullseye "bookworm/updates" path; the security
    # suite is also served by deb.debian.org.
    DIB_DEBIAN_SECURITY_MIRROR  = "http://deb.debian.org/debian-security/"
    DIB_DEBIAN_SECURITY_SUBPATH = "-security"
    }, var.security_updates ? {} : {
    # debian-minimal's default sources without the security line.
    DIB_APT_SOURCES_CONF = "default:deb http://deb.debian.org/debian ${var.suite} main\nupdates:deb http://deb.debian.org/debian ${var.suite}-updates main\n"
  })

  file "/etc/motd" {
    content = "Built by tieplan from ${join(" ", local.seed_elements)} (${var.arch}).\n"
    mode    = "0644"
    after   = "install.d"
  }

  artifact "qcow2" {
    path     = "bootstrap.qcow2"
    size     = "4G"
    compress = false
  }
}
