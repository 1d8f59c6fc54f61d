# Restart every phone of a server on demand:
#   terraform apply -invoke=action.cph_phone_restart.all
data "cph_phones" "all" {
  server_id = var.server_id
}

action "cph_phone_restart" "all" {
  config {
    phone_ids = data.cph_phones.all.phone_ids
  }
}
