data "cph_server" "this" {
  server_id = var.server_id
}

# From physical.rx1.xlarge.special to the bigger server flavor that sells
# the same phone flavor (rx1.cp.sp.c105.d8.e5v5).
resource "cph_server_flavor" "this" {
  server_id         = data.cph_server.this.server_id
  server_model_name = "physical.rx1.2xlarge.special"
  phone_model_name  = data.cph_server.this.phone_model_name
  auto_pay          = true
}
