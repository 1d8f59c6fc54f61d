# Finds cloud phone servers by name and other filters.
# data_source.tf is the snippet of docs/data-sources/cph_servers.md.

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

output "server_ids" {
  value = data.cph_servers.farm.server_ids
}
