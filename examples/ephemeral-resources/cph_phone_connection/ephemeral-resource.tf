# Connection tickets for every phone of a server, handed to a script through
# a provisioner's environment. Terraform keeps them out of the plan file and
# the state.
data "cph_phones" "all" {
  server_id = var.server_id
}

ephemeral "cph_phone_connection" "all" {
  phone_ids   = data.cph_phones.all.phone_ids
  client_type = "H5_PC"
}

resource "terraform_data" "warm_up" {
  input = data.cph_phones.all.phone_ids

  provisioner "local-exec" {
    command = "echo connecting to $PHONE at $ADDRESS:$PORT"
    environment = {
      PHONE   = data.cph_phones.all.phone_ids[0]
      ADDRESS = ephemeral.cph_phone_connection.all.connections[data.cph_phones.all.phone_ids[0]].access_ip
      PORT    = ephemeral.cph_phone_connection.all.connections[data.cph_phones.all.phone_ids[0]].access_port
      TICKET  = ephemeral.cph_phone_connection.all.connections[data.cph_phones.all.phone_ids[0]].ticket
    }
  }
}
