resource "cph_phone_route" "example" {
  phone_ids    = ["631056bfb66b4f4ea02ba25f04830cb4"]
  traffic_type = "routing"

  timeouts {
    create = "10m"
    update = "10m"
    delete = "10m"
  }
}
