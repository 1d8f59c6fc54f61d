# Reset two phones onto an image, one of them with new properties:
#   terraform apply -invoke=action.cph_phone_reset.lab
action "cph_phone_reset" "lab" {
  config {
    phone_ids = ["631056bfb66b4f4ea02ba25f04830cb4", "8f2e0a6a1c2b4d5e9f0a1b2c3d4e5f60"]
    image_id  = var.image_id
    properties = {
      "631056bfb66b4f4ea02ba25f04830cb4" = jsonencode({ "com.cph.mainkeys_show" = "0" })
    }
  }
}
