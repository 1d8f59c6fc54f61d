# One cph_phone_properties per server, with for_each: every server's phones
# get the same locale and bandwidth cap. Resources that manage the same keys
# share batch-update-property calls (100 phones a call), however many there are.

terraform {
  required_version = ">= 0.13"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

provider "cph" {}

variable "server_ids" {
  type    = set(string)
  default = ["a176d8625981453bbafbc0a321d8d6a1"]
}

data "cph_phones" "of" {
  for_each  = var.server_ids
  server_id = each.value
}

resource "cph_phone_properties" "fleet" {
  for_each  = var.server_ids
  phone_ids = data.cph_phones.of[each.key].phone_ids

  properties = {
    "persist.sys.locale"      = "en-US"
    "com.cph.bandwidth_limit" = "20000"
  }
}
