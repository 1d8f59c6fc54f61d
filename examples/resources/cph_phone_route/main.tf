# Routes cloud phones to the encoding container. Destroying the
# resource puts them back on the default route, direct.

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

variable "phone_ids" {
  description = "Ids of the phones to route. The default is the first phone of cph-emulator."
  type        = set(string)
  default     = ["631056bfb66b4f4ea02ba25f04830cb4"]
}

resource "cph_phone_route" "example" {
  phone_ids    = var.phone_ids
  traffic_type = "routing"

  timeouts {
    create = "10m"
    update = "10m"
    delete = "10m"
  }
}

output "jobs" {
  value = cph_phone_route.example.jobs
}
