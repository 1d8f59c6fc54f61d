# Reads a cloud phone server: its flavors, status, name and zone.
# data-source.tf is the snippet of docs/data-sources/cph_server.md.

terraform {
  required_version = ">= 0.13"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings come from HW_* variables (see docs/index.md).
provider "cph" {}
