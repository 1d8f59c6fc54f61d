# Quick start: change a cloud phone server's flavor in place and route all of
# its phones, on the real cloud or on the local cph-emulator (`make demo`).
#
# The provider block is empty on purpose: every setting comes from the HW_*
# environment variables (HW_REGION_NAME, HW_PROJECT_ID, HW_ACCESS_KEY and
# HW_SECRET_KEY, and HW_CPH_ENDPOINT for a non-default endpoint such as the
# emulator's).

terraform {
  required_version = ">= 0.13"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

provider "cph" {}

# The server as CPH reports it.
data "cph_server" "this" {
  server_id = var.server_id
}

# Every phone of the server, so that no phone id is pasted by hand.
data "cph_phones" "this" {
  server_id = var.server_id
}

# The server's flavor, changed in place through change-server-model. Nothing
# is sent when the server already has these flavors.
resource "cph_server_flavor" "this" {
  server_id         = var.server_id
  server_model_name = var.server_model_name
  phone_model_name  = var.phone_model_name
  auto_pay          = true

  timeouts {
    create = "30m"
    update = "30m"
  }
}

# The route of every phone of the server, set through phones-traffic.
resource "cph_phone_route" "this" {
  phone_ids    = data.cph_phones.this.phone_ids
  traffic_type = var.traffic_type

  timeouts {
    create = "10m"
    update = "10m"
    delete = "10m"
  }

  # Route the phones once the server runs its target flavor.
  depends_on = [cph_server_flavor.this]
}
