resource "cph_server_flavor" "example" {
  server_id         = "a176d8625981453bbafbc0a321d8d6a1"
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
  auto_pay          = true

  timeouts {
    create = "30m"
    update = "30m"
  }
}

output "order_id" {
  value = cph_server_flavor.example.order_id
}
