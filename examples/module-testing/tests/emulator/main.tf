# One call to cph-emulator, for run blocks of the tests: through its admin
# API (/_emulator/..., emulator/README.md) inject a failure, make a server
# vanish, or check the call counters; through the CPH API itself (api =
# "cph", signed with the provider's keys) change a phone behind Terraform's
# back or read it. Needs only Terraform's built-in terraform_data and
# python3; the emulator's address and keys are the provider's HW_* settings.
#
#   run "fail_a_job" {
#     module { source = "./tests/emulator" }
#     variables {
#       path = "fail-jobs"
#       body = { phone_ids = ["a1000000000000000000000000000001"] }
#     }
#   }
#
# A failed call, or an answer for which `expect` is false, fails the run.

variable "api" {
  description = "\"admin\" (the admin API, no authentication) or \"cph\" (the CPH API; a call that starts jobs waits for them)."
  type        = string
  default     = "admin"

  validation {
    condition     = contains(["admin", "cph"], var.api)
    error_message = "api is \"admin\" or \"cph\"."
  }
}

variable "method" {
  description = "HTTP method: GET, POST, PUT or DELETE."
  type        = string
  default     = "POST"
}

variable "path" {
  description = "Path under /_emulator/ (e.g. \"fail-jobs\", \"servers/ID\") or, with api = \"cph\", under /v1/PROJECT/cloud-phone/ (e.g. \"phones/ID\")."
  type        = string
}

variable "body" {
  description = "JSON body (any value; null sends none)."
  type        = any
  default     = null
}

variable "expect" {
  description = "A Python expression over the answer `a` (parsed JSON; `json` is at hand) that must be true, e.g. a[\"calls\"][\"restart_phones\"] == 1."
  type        = string
  default     = "True"
}

resource "terraform_data" "call" {
  # timestamp() is unknown until apply, so every run makes the call again.
  triggers_replace = [var.api, var.method, var.path, jsonencode(var.body), var.expect, timestamp()]

  provisioner "local-exec" {
    command = "python3 ${path.module}/admin.py"
    environment = {
      ADMIN_API    = var.api
      ADMIN_METHOD = var.method
      ADMIN_PATH   = var.path
      ADMIN_BODY   = var.body == null ? "" : jsonencode(var.body)
      ADMIN_EXPECT = var.expect
    }
  }
}
