# Gives two cloud phones a locale and hides their status bar. Destroying
# the resource puts back the values these keys had before.
# resource.tf is the snippet of docs/resources/cph_phone_properties.md.

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

output "original_properties" {
  value = cph_phone_properties.example.original_properties
}

output "failed" {
  value = cph_phone_properties.example.failed
}
