resource "cph_phone_route" "all" {
  phone_ids    = data.cph_phones.all.phone_ids
  traffic_type = "routing"
}
