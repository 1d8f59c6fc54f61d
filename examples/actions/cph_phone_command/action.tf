# Ask every phone of a server for its Android version, and install an app
# on some phones, on demand:
#   terraform apply -invoke=action.cph_phone_command.version
#   terraform apply -invoke=action.cph_phone_command.install
# Each phone's answer is printed under the action as it comes.
action "cph_phone_command" "version" {
  config {
    command    = "shell"
    content    = "getprop ro.build.version.release"
    server_ids = [var.server_id]
  }
}

action "cph_phone_command" "install" {
  config {
    command   = "install"
    content   = "-r obs://my-bucket/apps/com.example.shop.apk"
    phone_ids = var.phone_ids
  }
}
