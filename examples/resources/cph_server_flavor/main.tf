# Changes the flavor of an existing cloud phone server in place. Terraform
# waits until the server shows the new flavors; removing the resource leaves
# the server on its current flavor.
# resource.tf is the snippet of docs/resources/cph_server_flavor.md.

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

output "original_flavor" {
  value = "${cph_server_flavor.example.original_server_model_name} / ${cph_server_flavor.example.original_phone_model_name}"
}
