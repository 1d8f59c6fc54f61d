# Lists the phones of a cloud phone server, optionally filtered.

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

# Every phone of the server.
data "cph_phones" "all" {
  server_id = "a176d8625981453bbafbc0a321d8d6a1"
}

# Only the running phones that are still on the default route.
data "cph_phones" "running_direct" {
  server_id    = "a176d8625981453bbafbc0a321d8d6a1"
  status       = 2
  traffic_type = "direct"
}

output "phone_ids" {
  value = data.cph_phones.all.phone_ids
}

output "phone_names" {
  value = { for p in data.cph_phones.all.phones : p.phone_id => p.phone_name }
}

output "running_direct_count" {
  value = length(data.cph_phones.running_direct.phone_ids)
}
