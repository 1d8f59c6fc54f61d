# Routes cloud phones to the encoding container. Destroying the
# resource puts them back on the default route, direct.
# resource.tf is the snippet of docs/resources/cph_phone_route.md.

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

output "failed" {
  value = cph_phone_route.example.failed
}

output "summary" {
  value = cph_phone_route.example.summary
}
