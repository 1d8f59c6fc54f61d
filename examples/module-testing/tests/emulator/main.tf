# One call to cph-emulator's admin API (/_emulator/..., emulator/README.md),
# for run blocks of the tests: inject a failure, make a server vanish, or
# check the call counters. Needs only Terraform's built-in terraform_data and
# python3; the emulator's address is the provider's HW_CPH_ENDPOINT.
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

variable "method" {
  description = "HTTP method: GET, POST, PUT or DELETE."
  type        = string
  default     = "POST"
}

variable "path" {
  description = "Path under /_emulator/, e.g. \"fail-jobs\" or \"servers/ID\"."
  type        = string
}

variable "body" {
  description = "JSON body (any value; null sends none)."
  type        = any
  default     = null
}

variable "expect" {
  description = "A Python expression over the answer `a` (parsed JSON) that must be true, e.g. a[\"calls\"][\"restart_phones\"] == 1."
  type        = string
  default     = "True"
}

resource "terraform_data" "call" {
  # timestamp() is unknown until apply, so every run makes the call again.
  triggers_replace = [var.method, var.path, jsonencode(var.body), var.expect, timestamp()]

  provisioner "local-exec" {
    command = "python3 ${path.module}/admin.py"
    environment = {
      ADMIN_METHOD = var.method
      ADMIN_PATH   = var.path
      ADMIN_BODY   = var.body == null ? "" : jsonencode(var.body)
      ADMIN_EXPECT = var.expect
    }
  }
}
