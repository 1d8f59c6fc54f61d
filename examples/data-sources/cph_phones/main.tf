# Lists the phones of a cloud phone server, optionally filtered.
# data-source.tf and route_all.tf are the snippets of docs/data-sources/cph_phones.md.

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

output "phone_ids" {
  value = data.cph_phones.all.phone_ids
}

output "running_direct_count" {
  value = length(data.cph_phones.running_direct.phone_ids)
}
