# Restart servers (and with them all their phones):
#   terraform apply -invoke=action.cph_server_restart.farm
action "cph_server_restart" "farm" {
  config {
    server_ids = var.server_ids
  }
}
