variable "server_id" {
  type    = string
  default = "a176d8625981453bbafbc0a321d8d6a1"
}

data "cph_server_flavor_options" "this" {
  server_id = var.server_id
}

locals {
  # Only the upgrades: once the server is on the biggest pair there are none,
  # and the target is the current pair, so the next plan changes nothing.
  upgrades = [for o in data.cph_server_flavor_options.this.options : o if o.upgrade]
  # The options come in catalogue order; take the upgrade with the most
  # server vCPUs, then the most phone disk.
  ranked = [
    for o in local.upgrades : o if o.server_cpu == max(0, local.upgrades[*].server_cpu...)
  ]
  best = [
    for o in local.ranked : o if o.phone_disk == max(0, local.ranked[*].phone_disk...)
  ]
}

resource "cph_server_flavor" "this" {
  server_id         = var.server_id
  server_model_name = length(local.best) > 0 ? local.best[0].server_model_name : data.cph_server_flavor_options.this.server_model_name
  phone_model_name  = length(local.best) > 0 ? local.best[0].phone_model_name : data.cph_server_flavor_options.this.phone_model_name
  # An upgrade is paid; without auto_pay it waits for payment in the console.
  auto_pay = true
}
