list "cph_phone_route" "routed" {
  provider = cph
  config {
    traffic_type = "routing"
  }
}
