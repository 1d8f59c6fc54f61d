# Roll an app out to a fleet: one module instance per server whose name
# contains var.server_name. Each instance installs the APK on every phone
# of its server when it is first applied and again whenever var.apk
# changes; the instances' installs run at the same time and the provider
# merges them into calls of 100 phones (same command, same content).
#   terraform apply -var apk=obs://my-bucket/apps/v2/com.example.shop.apk

terraform {
  required_version = ">= 1.14"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings come from HW_* variables (see docs/index.md).
provider "cph" {}

variable "server_name" {
  description = "Servers whose names contain this text get the app."
  type        = string
  default     = "server-"
}

variable "apk" {
  description = "The app's APK in OBS; a new value rolls it out again."
  type        = string
  default     = "obs://my-bucket/apps/v1/com.example.shop.apk"
}

data "cph_servers" "fleet" {
  server_name = var.server_name
}

module "app" {
  source   = "./app"
  for_each = toset(data.cph_servers.fleet.server_ids)

  server_id = each.value
  apk       = var.apk
}
