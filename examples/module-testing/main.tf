# A small team module: the phones of each of the team's servers on one route
# (a cph_phone_route per server, for_each), the team's phone properties (a
# cph_phone_properties per server), one flavor for every server, and a
# restart of a server's phones whenever their route changes (an action
# trigger). A server deleted outside Terraform is left out and reported by a
# check; a phone whose route job failed is reported in an output (the apply
# warns, and the next apply sends it again).
#
# tests/*.tftest.hcl test it with `terraform test` against cph-emulator
# started with seed.json (docs/guides/testing-modules.md).

terraform {
  required_version = ">= 1.14"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings come from HW_* variables (cph-emulator prints them at start).
provider "cph" {}

variable "servers" {
  description = "The team's servers by name: the server's id and the route of its phones."
  type = map(object({
    server_id    = string
    traffic_type = optional(string, "direct")
  }))
}

variable "flavor" {
  description = "Server and phone flavor of every server; null leaves the flavors alone."
  type = object({
    server_model_name = string
    phone_model_name  = string
  })
  default = null
}

variable "phone_properties" {
  description = "Properties every phone of the team's servers gets, key to value (e.g. persist.sys.locale, com.cph.bandwidth_limit); empty manages none. A destroy puts back the values the phones had."
  type        = map(string)
  default     = {}
}

data "cph_server" "this" {
  for_each  = var.servers
  server_id = each.value.server_id
}

data "cph_phones" "this" {
  for_each  = var.servers
  server_id = each.value.server_id
}

locals {
  # A server deleted outside Terraform drops out of every resource below.
  present = { for name, s in var.servers : name => s if data.cph_server.this[name].exists }
  missing = sort([for name, s in var.servers : name if !data.cph_server.this[name].exists])
}

resource "cph_phone_route" "this" {
  for_each     = local.present
  phone_ids    = data.cph_phones.this[each.key].phone_ids
  traffic_type = each.value.traffic_type

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.cph_phone_restart.this[each.key]]
    }
  }
}

# Restarts a server's phones after their route changed (not on create).
action "cph_phone_restart" "this" {
  for_each = local.present
  config {
    phone_ids = data.cph_phones.this[each.key].phone_ids
  }
}

# The team's properties on each server's phones. A phone changed outside
# Terraform is set again by the next apply; a destroy restores the values
# the keys had (original_properties).
resource "cph_phone_properties" "this" {
  for_each   = length(var.phone_properties) == 0 ? {} : local.present
  phone_ids  = data.cph_phones.this[each.key].phone_ids
  properties = var.phone_properties
}

resource "cph_server_flavor" "this" {
  for_each          = var.flavor == null ? {} : local.present
  server_id         = each.value.server_id
  server_model_name = var.flavor.server_model_name
  phone_model_name  = var.flavor.phone_model_name
  auto_pay          = true
}

check "servers_exist" {
  assert {
    condition     = length(local.missing) == 0
    error_message = "Servers not found (deleted outside Terraform?): ${join(", ", local.missing)}."
  }
}

output "missing_servers" {
  description = "Names of the servers that no longer exist."
  value       = local.missing
}

output "failed_phones" {
  description = "Phones whose last route job failed, with the error code."
  value       = merge([for r in cph_phone_route.this : { for id, f in r.failed : id => f.error_code }]...)
}
