# Reset two phones onto an image, one of them with new properties (the
# first two phones of cph-emulator's default fleet):
#   terraform apply -invoke=action.cph_phone_reset.lab
action "cph_phone_reset" "lab" {
  config {
    phone_ids = ["631056bfb66b4f4ea02ba25f04830cb4", "148c297cd8be07944ba5598874b344d0"]
    image_id  = var.image_id
    properties = {
      "631056bfb66b4f4ea02ba25f04830cb4" = jsonencode({ "com.cph.mainkeys_show" = "0" })
    }
  }
}
