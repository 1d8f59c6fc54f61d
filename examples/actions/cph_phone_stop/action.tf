# Stop every phone of a server:
#   terraform apply -invoke=action.cph_phone_stop.night
data "cph_phones" "all" {
  server_id = var.server_id
}

action "cph_phone_stop" "night" {
  config {
    phone_ids = data.cph_phones.all.phone_ids
  }
}
