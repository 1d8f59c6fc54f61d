# Plans and applies of the team module against cph-emulator started with
# ../seed.json: routes per server, a flavor change, and the restart its
# action trigger makes when a route changes.

variables {
  servers = {
    a = { server_id = "a0000000000000000000000000000001", traffic_type = "routing" }
    b = { server_id = "b0000000000000000000000000000002" }
  }
  # The flavor every server changes to; the first runs set none.
  flavor = {
    server_model_name = "physical.rx1.xlarge.special"
    phone_model_name  = "rx1.cp.sp.c105.d8.e5v5"
  }
}

run "plan_routes_per_server" {
  command = plan

  variables {
    flavor = null
  }

  assert {
    condition     = length(cph_phone_route.this) == 2
    error_message = "One route per server."
  }
  assert {
    condition     = cph_phone_route.this["a"].phone_ids == toset(["a1000000000000000000000000000001", "a1000000000000000000000000000002", "a1000000000000000000000000000003"])
    error_message = "Server a's route holds its three seeded phones."
  }
  assert {
    condition     = cph_phone_route.this["b"].traffic_type == "direct"
    error_message = "Server b's phones stay on the default route."
  }
  assert {
    condition     = length(cph_server_flavor.this) == 0
    error_message = "No flavor given, no flavor change."
  }
}

run "apply_routes" {
  variables {
    flavor = null
  }

  assert {
    condition     = cph_phone_route.this["a"].summary.succeeded == 3
    error_message = "Server a's three phones are on routing."
  }
  assert {
    condition     = output.failed_phones == {}
    error_message = "No phone failed."
  }
}

run "change_flavor" {
  assert {
    condition     = cph_server_flavor.this["a"].original_server_model_name == "physical.rx1.xlarge"
    error_message = "The flavor before the change is recorded."
  }
  assert {
    condition     = cph_server_flavor.this["b"].server_model_name == "physical.rx1.xlarge.special"
    error_message = "Server b is on the new flavor."
  }
}

run "api_shows_new_flavor" {
  command = plan

  assert {
    condition     = data.cph_server.this["a"].phone_model_name == "rx1.cp.sp.c105.d8.e5v5"
    error_message = "The API shows the new phone flavor."
  }
}

run "no_restart_yet" {
  module {
    source = "./tests/emulator"
  }
  variables {
    method = "GET"
    path   = "calls"
    expect = "a['calls']['restart_phones'] == 0"
  }
}

run "switch_route_restarts_its_phones" {
  variables {
    servers = {
      a = { server_id = "a0000000000000000000000000000001", traffic_type = "direct" }
      b = { server_id = "b0000000000000000000000000000002" }
    }
  }

  assert {
    condition     = cph_phone_route.this["a"].traffic_type == "direct"
    error_message = "Server a's phones are back on direct."
  }
}

run "one_restart_for_the_changed_route" {
  module {
    source = "./tests/emulator"
  }
  variables {
    method = "GET"
    path   = "calls"
    expect = "a['calls']['restart_phones'] == 1"
  }
}
