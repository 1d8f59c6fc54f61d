# Routes every phone of every server whose name contains var.server_name:
# the servers are found through cph_servers and each server's phones through
# cph_phones, so that no id is written by hand. A phone added to a server
# shows up in the next plan as an in-place change; a new matching server as
# a new route.
#
# One cph_phone_route per server: the provider merges the routes Terraform
# applies at the same time into calls of 100 phones and polls their jobs
# together. Terraform applies at most -parallelism resources at once
# (default 10); with more servers, `terraform apply -parallelism=50` lets
# them share one batch. A phone moved from one server's route to another's
# in one apply ends on its new route.

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

variable "server_name" {
  description = "Servers whose names contain this text have their phones routed."
  type        = string
  default     = "server-"
}

variable "traffic_type" {
  description = "Route of every phone: direct or routing."
  type        = string
  default     = "routing"
}

data "cph_servers" "fleet" {
  server_name = var.server_name
}

data "cph_phones" "fleet" {
  for_each  = toset(data.cph_servers.fleet.server_ids)
  server_id = each.value
}

resource "cph_phone_route" "fleet" {
  for_each     = data.cph_phones.fleet
  phone_ids    = each.value.phone_ids
  traffic_type = var.traffic_type
}

output "routed_phones" {
  description = "Per server, the number of routed phones."
  value       = { for server_id, route in cph_phone_route.fleet : server_id => length(route.phone_ids) }
}
