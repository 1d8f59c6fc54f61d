# Install the shop app on a route's phones when the route is created and
# whenever it changes (not on an apply that changes nothing).
action "cph_phone_command" "after_route" {
  config {
    command   = "install"
    content   = "-r obs://my-bucket/apps/com.example.shop.apk"
    phone_ids = cph_phone_route.shop.phone_ids
  }
}

resource "cph_phone_route" "shop" {
  phone_ids    = var.phone_ids
  traffic_type = "routing"

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.cph_phone_command.after_route]
    }
  }
}
