# Lists the flavors a cloud phone server can change to, and changes it to the
# biggest one, chosen from data rather than pasted from the console.
# data-source.tf is the snippet of docs/data-sources/cph_server_flavor_options.md.

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

output "options" {
  value = [
    for o in data.cph_server_flavor_options.this.options :
    "${o.server_model_name} / ${o.phone_model_name} (${o.phone_capacity} phones, upgrade: ${o.upgrade})"
  ]
}
