# Every server's flavor: one cph_server_flavor per server.
list "cph_server_flavor" "servers" {
  provider = cph
}

# Every phone, in groups of one server and one route: one cph_phone_route
# per group, identity { id = "<server_id>/<traffic_type>" }.
list "cph_phone_route" "routes" {
  provider = cph
}

# Narrower queries: uncomment to list only some servers, or one route.
#
# list "cph_phone_route" "routed" {
#   provider = cph
#   config {
#     server_ids   = ["a176d8625981453bbafbc0a321d8d6a1"]
#     traffic_type = "routing"
#   }
# }
