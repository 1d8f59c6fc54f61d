# One server's share of the rollout (see ../main.tf).

terraform {
  required_version = ">= 1.14"

  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

variable "server_id" {
  type = string
}

variable "apk" {
  type = string
}

# The release being rolled out: created with the first APK, updated with
# each new one, and each time the install below runs.
resource "terraform_data" "release" {
  input = var.apk

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.cph_phone_command.install]
    }
  }
}

action "cph_phone_command" "install" {
  config {
    command    = "install"
    content    = "-r ${var.apk}"
    server_ids = [var.server_id]
  }
}
