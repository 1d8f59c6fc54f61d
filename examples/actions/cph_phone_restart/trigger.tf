# Restart a route's phones whenever their route changes (not on create, not
# on an apply that changes nothing).
action "cph_phone_restart" "after_route" {
  config {
    phone_ids = cph_phone_route.streamers.phone_ids
  }
}

resource "cph_phone_route" "streamers" {
  phone_ids    = var.phone_ids
  traffic_type = "routing"

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.cph_phone_restart.after_route]
    }
  }
}
