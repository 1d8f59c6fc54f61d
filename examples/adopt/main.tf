# Adopting an existing fleet (Terraform 1.14 or later): `fleet.tfquery.hcl`
# lists every server and every phone of the project; then
#
#   terraform query -generate-config-out=fleet.tf
#   terraform plan      # N to import, 0 to add, 0 to change, 0 to destroy
#   terraform apply     # imports only: no call changes anything
#
# writes and imports one cph_server_flavor per server and cph_phone_route
# blocks that together hold every phone. See docs/guides/adopt.md.

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
