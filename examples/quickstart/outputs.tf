output "server" {
  description = "The server as CPH reported it when this run started."
  value = {
    id                = data.cph_server.this.server_id
    name              = data.cph_server.this.server_name
    availability_zone = data.cph_server.this.availability_zone
    status            = data.cph_server.this.status
  }
}

output "flavor" {
  description = "The server's flavor now, the flavor it had before Terraform managed it, and the order of the last change."
  value = {
    server_model_name          = cph_server_flavor.this.server_model_name
    phone_model_name           = cph_server_flavor.this.phone_model_name
    original_server_model_name = cph_server_flavor.this.original_server_model_name
    original_phone_model_name  = cph_server_flavor.this.original_phone_model_name
    order_id                   = cph_server_flavor.this.order_id
  }
}

output "route" {
  description = "The route of the server's phones."
  value       = cph_phone_route.this.traffic_type
}

output "phone_count" {
  description = "How many phones carry the route."
  value       = length(cph_phone_route.this.phone_ids)
}

output "route_failed" {
  description = "The phones whose last route job did not succeed, with its error code."
  value       = { for id, job in cph_phone_route.this.failed : id => job.error_code }
}
