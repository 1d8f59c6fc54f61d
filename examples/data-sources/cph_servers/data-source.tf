# Every normal server whose name contains "farm-".
data "cph_servers" "farm" {
  server_name = "farm-"
  status      = 5
}

output "phones_per_server" {
  value = { for s in data.cph_servers.farm.servers : s.server_name => s.phone_count }
}
