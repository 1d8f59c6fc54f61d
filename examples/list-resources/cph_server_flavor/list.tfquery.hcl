list "cph_server_flavor" "servers" {
  provider = cph
}
