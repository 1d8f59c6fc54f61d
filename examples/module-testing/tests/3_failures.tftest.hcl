# The team module's failure handling, with failures injected through
# cph-emulator's admin API (./emulator): a phone whose route job fails, and
# a server deleted outside Terraform.

variables {
  servers = {
    a = { server_id = "a0000000000000000000000000000001", traffic_type = "routing" }
    b = { server_id = "b0000000000000000000000000000002", traffic_type = "routing" }
  }
}

run "fail_one_phone" {
  module {
    source = "./tests/emulator"
  }
  variables {
    path = "fail-jobs"
    body = { phone_ids = ["a1000000000000000000000000000002"] }
  }
}

run "failed_job_is_reported" {
  # The route is created with the other phones (the apply warns); the
  # output names the failed one.
  assert {
    condition     = output.failed_phones == { "a1000000000000000000000000000002" = "CPS.0020" }
    error_message = "The failed phone and its job's error code."
  }
  assert {
    condition     = cph_phone_route.this["b"].summary.succeeded == 2
    error_message = "Server b's phones are routed."
  }
}

run "jobs_succeed_again" {
  module {
    source = "./tests/emulator"
  }
  variables {
    method = "DELETE"
    path   = "fail-jobs"
  }
}

run "next_apply_retries_the_failed_phone" {
  assert {
    condition     = output.failed_phones == {}
    error_message = "The retry routed the failed phone."
  }
}

run "delete_server_b" {
  module {
    source = "./tests/emulator"
  }
  variables {
    method = "DELETE"
    path   = "servers/b0000000000000000000000000000002"
  }
}

run "vanished_server_is_left_out" {
  expect_failures = [check.servers_exist]

  assert {
    condition     = output.missing_servers == tolist(["b"])
    error_message = "Server b is reported missing."
  }
  assert {
    condition     = length(cph_phone_route.this) == 1 && contains(keys(cph_phone_route.this), "a")
    error_message = "Only server a keeps a route."
  }
}
