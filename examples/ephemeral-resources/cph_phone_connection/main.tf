# Ephemeral resources need Terraform 1.10 or later. The ephemeral-resource.tf
# file is the snippet of this type's docs page.

terraform {
  required_version = ">= 1.10"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings come from HW_* variables (see docs/index.md).
provider "cph" {}
