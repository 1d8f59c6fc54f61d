terraform {
  required_version = ">= 0.13"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Everything from the environment: HW_REGION_NAME, HW_PROJECT_ID,
# HW_ACCESS_KEY and HW_SECRET_KEY.
provider "cph" {}

data "cph_phones" "all" {
  server_id = "a176d8625981453bbafbc0a321d8d6a1"
}

resource "cph_server_flavor" "this" {
  server_id         = "a176d8625981453bbafbc0a321d8d6a1"
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
  auto_pay          = true
}

resource "cph_phone_route" "all" {
  phone_ids    = data.cph_phones.all.phone_ids
  traffic_type = "routing"
}
