# Changes only the server flavor, keeping the phone flavor the server has,
# found through the cph_server data source.
# resource.tf is a snippet of docs/resources/cph_server_flavor.md.

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

variable "server_id" {
  description = "Id of the cloud phone server. The default is the first server of cph-emulator."
  type        = string
  default     = "a176d8625981453bbafbc0a321d8d6a1"
}
