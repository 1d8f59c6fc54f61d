data "cph_server" "example" {
  server_id = "a176d8625981453bbafbc0a321d8d6a1"
}

output "flavor" {
  value = "${data.cph_server.example.server_model_name} / ${data.cph_server.example.phone_model_name}"
}

output "status" {
  value = data.cph_server.example.status
}
