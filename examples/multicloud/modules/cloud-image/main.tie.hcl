# A Debian bookworm cloud image for one cloud: debian-minimal with DIB's
# vm element (a partitioned disk with grub) and cloud-init. Only the
# cloud-init data sources (the `cloud` input) and the artifact differ
# from cloud to cloud.

variable "cloud" {
  type        = string
  description = "The cloud the image is for: openstack, azure, vmware, gce or aws."

  validation {
    condition     = contains(["openstack", "azure", "vmware", "gce", "aws"], var.cloud)
    error_message = "The cloud must be one of openstack, azure, vmware, gce and aws."
  }
}

variable "format" {
  type        = string
  description = "The artifact format its image service imports."
}

variable "path" {
  type        = string
  description = "Where the artifact is written."
}

variable "size" {
  type        = string
  default     = "2G"
  description = "Disk size."
}

locals {
  # What DIB's cloud-init-datasources element would write with
  # DIB_CLOUD_INIT_DATASOURCES set per cloud. An element reading a
  # per-cloud variable would put that variable in the key of every step
  # (any script may read the environment); a file block keys only itself.
  datasources = {
    openstack = "ConfigDrive, OpenStack"
    azure     = "Azure"
    vmware    = "VMware, OVF"
    gce       = "GCE"
    aws       = "Ec2"
  }
}

image "main" {
  description = "Debian bookworm for ${var.cloud}"
  elements    = ["vm", "debian-minimal", "cloud-init", "openssh-server"]

  env = {
    DIB_RELEASE = "bookworm"
    # Debian's diskimage-builder 3.13 still points bookworm's security
    # updates at the pre-bullseye "bookworm/updates" path; the security
    # suite is also served by deb.debian.org.
    DIB_DEBIAN_SECURITY_MIRROR  = "http://deb.debian.org/debian-security/"
    DIB_DEBIAN_SECURITY_SUBPATH = "-security"
  }

  # The per-cloud steps start here, after every element script.
  file "/etc/cloud/cloud.cfg.d/91-dib-cloud-init-datasources.cfg" {
    content = "datasource_list: [ ${local.datasources[var.cloud]}, None ]\n"
    mode    = "0644"
    after   = "post-install.d"
  }

  file "/etc/tieplan-cloud" {
    content = "${var.cloud}\n"
    mode    = "0644"
    after   = "post-install.d"
  }

  # One artifact, in the format given: a block label cannot be an
  # expression, so a dynamic block makes it.
  dynamic "artifact" {
    for_each = [var.format]
    labels   = [artifact.value]
    content {
      path = var.path
      size = var.size
      # qcow2 is compressed by default; uncompressed it is written in a
      # fraction of the time, and Glance stores it as given.
      compress = false
    }
  }
}

output "image" {
  value = image.main.address
}
