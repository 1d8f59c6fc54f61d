# Changes the flavor of an existing cloud phone server in place. Terraform
# waits until the server shows the new flavors; removing the resource leaves
# the server on its current flavor.

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

resource "cph_server_flavor" "example" {
  server_id         = "a176d8625981453bbafbc0a321d8d6a1"
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
  auto_pay          = true

  timeouts {
    create = "30m"
    update = "30m"
  }
}

output "order_id" {
  value = cph_server_flavor.example.order_id
}

output "original_flavor" {
  value = "${cph_server_flavor.example.original_server_model_name} / ${cph_server_flavor.example.original_phone_model_name}"
}
