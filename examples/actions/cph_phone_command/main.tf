# Actions need Terraform 1.14 or later. The action file is the snippet of
# this action's docs page.

terraform {
  required_version = ">= 1.14"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings come from HW_* variables (see docs/index.md).
provider "cph" {}
