data "cph_server" "this" {
  server_id = var.server_id
}

resource "cph_server_flavor" "this" {
  server_id         = data.cph_server.this.server_id
  server_model_name = "physical.rx1.xlarge.special"
  phone_model_name  = data.cph_server.this.phone_model_name
  auto_pay          = true
}
