resource "cph_phone_properties" "example" {
  phone_ids = ["631056bfb66b4f4ea02ba25f04830cb4"]

  properties = {
    "persist.sys.locale" = "en-US"
    "disable.status.bar" = "1"
  }

  # "restore" (the default) puts back original_properties on destroy.
  on_destroy = "restore"

  timeouts {
    create = "10m"
    update = "10m"
    delete = "10m"
  }
}
