data "cph_phones" "server" {
  server_id = "a176d8625981453bbafbc0a321d8d6a1"
}

resource "cph_phone_route" "server" {
  phone_ids    = data.cph_phones.server.phone_ids
  traffic_type = "routing"
}
