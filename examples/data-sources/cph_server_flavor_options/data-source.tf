variable "server_id" {
  type    = string
  default = "a176d8625981453bbafbc0a321d8d6a1"
}

data "cph_server_flavor_options" "this" {
  server_id = var.server_id
}

locals {
  # The options come in catalogue order; take the one with the most server
  # vCPUs, then the most phone disk.
  ranked = [
    for o in data.cph_server_flavor_options.this.options :
    o if o.server_cpu == max(data.cph_server_flavor_options.this.options[*].server_cpu...)
  ]
  target = [
    for o in local.ranked : o if o.phone_disk == max(local.ranked[*].phone_disk...)
  ][0]
}

resource "cph_server_flavor" "this" {
  server_id         = var.server_id
  server_model_name = local.target.server_model_name
  phone_model_name  = local.target.phone_model_name
  # An upgrade is paid; without auto_pay it waits for payment in the console.
  auto_pay = local.target.upgrade
}
