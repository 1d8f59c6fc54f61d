# This provider beside huaweicloud/huaweicloud: huaweicloud_cph_server buys
# and owns the server, cph_server_flavor changes its flavor in place, and
# cph_phone_route routes its phones. docs/guides/coexistence.md explains it.

terraform {
  required_version = ">= 0.13"

  required_providers {
    huaweicloud = {
      source = "huaweicloud/huaweicloud"
    }
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Both providers read the same HW_* environment variables (HW_REGION_NAME,
# HW_ACCESS_KEY, HW_SECRET_KEY; HW_PROJECT_ID for cph).
provider "huaweicloud" {}
provider "cph" {}

resource "huaweicloud_cph_server" "this" {
  name              = "phones-01"
  availability_zone = var.availability_zone
  vpc_id            = var.vpc_id
  subnet_id         = var.subnet_id
  image_id          = var.image_id
  keypair_name      = var.keypair_name
  eip_id            = var.eip_id

  # The flavors the server is bought with. Later changes are made by
  # cph_server_flavor below, in place; editing these does nothing.
  server_flavor = "physical.rx1.xlarge"
  phone_flavor  = "rx1.cp.c15.d46.e1v1"

  period_unit = "month"
  period      = 1
  auto_renew  = "true"

  lifecycle {
    # huaweicloud_cph_server reads the server's live flavor back into these
    # two force-new attributes: without this, the first plan after an
    # in-place change would destroy the server and buy a new one.
    ignore_changes = [server_flavor, phone_flavor]
  }
}

# The flavor the server runs: change these two and apply.
resource "cph_server_flavor" "this" {
  server_id         = huaweicloud_cph_server.this.id
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
  auto_pay          = true
}

data "cph_phones" "this" {
  server_id = huaweicloud_cph_server.this.id
}

resource "cph_phone_route" "this" {
  phone_ids    = data.cph_phones.this.phone_ids
  traffic_type = "routing"

  depends_on = [cph_server_flavor.this]
}
