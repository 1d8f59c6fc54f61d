# Every phone of the server.
data "cph_phones" "all" {
  server_id = "a176d8625981453bbafbc0a321d8d6a1"
}

# Only the running phones that are still on the default route.
data "cph_phones" "running_direct" {
  server_id    = "a176d8625981453bbafbc0a321d8d6a1"
  status       = 2
  traffic_type = "direct"
}

output "phone_names" {
  value = { for p in data.cph_phones.all.phones : p.phone_id => p.phone_name }
}

# Every phone of the project that is on the routing route, whatever its server.
data "cph_phones" "routed" {
  traffic_type = "routing"
}
