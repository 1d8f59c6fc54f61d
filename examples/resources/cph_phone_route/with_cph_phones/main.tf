# Routes every phone of a server, found through the cph_phones data source.
# resource.tf is a snippet of docs/resources/cph_phone_route.md.

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
