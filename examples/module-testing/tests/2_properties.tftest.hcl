# The team's phone properties: applied with the values they replace
# recorded, a phone changed outside Terraform (drift) found by the next plan
# and set again by the next apply, and the old values put back by the
# teardown. The out-of-band changes go through the CPH API itself
# (./emulator with api = "cph").

variables {
  servers = {
    a = { server_id = "a0000000000000000000000000000001" }
    b = { server_id = "b0000000000000000000000000000002" }
  }
  phone_properties = {
    "persist.sys.locale"      = "en-US"
    "com.cph.bandwidth_limit" = "20000"
  }
}

run "server_a_phones_have_a_locale" {
  # Before the team manages them, server a's phones are on zh-CN.
  module {
    source = "./tests/emulator"
  }
  variables {
    api  = "cph"
    path = "phones/batch-update-property"
    body = {
      phones = [
        for id in ["a1000000000000000000000000000001", "a1000000000000000000000000000002", "a1000000000000000000000000000003"] :
        { phone_id = id, property = jsonencode({ "persist.sys.locale" = "zh-CN" }) }
      ]
    }
  }
}

run "apply_properties" {
  assert {
    condition     = length(cph_phone_properties.this) == 2 && length(cph_phone_properties.this["a"].failed) == 0
    error_message = "One property set per server, every phone set."
  }
  assert {
    condition     = cph_phone_properties.this["a"].original_properties["a1000000000000000000000000000001"] == tomap({ "persist.sys.locale" = "zh-CN" })
    error_message = "The locale server a's phones had is recorded (the bandwidth cap had no value)."
  }
  assert {
    condition     = length(cph_phone_properties.this["b"].original_properties["b1000000000000000000000000000001"]) == 0
    error_message = "Server b's phones had neither key."
  }
}

run "api_shows_the_properties" {
  module {
    source = "./tests/emulator"
  }
  variables {
    api    = "cph"
    method = "GET"
    path   = "phones/a1000000000000000000000000000002"
    expect = "json.loads(a['property']) == {'persist.sys.locale': 'en-US', 'com.cph.bandwidth_limit': '20000'}"
  }
}

run "change_a_locale_out_of_band" {
  module {
    source = "./tests/emulator"
  }
  variables {
    api  = "cph"
    path = "phones/batch-update-property"
    body = {
      phones = [{ phone_id = "a1000000000000000000000000000002", property = jsonencode({ "persist.sys.locale" = "fr-FR" }) }]
    }
  }
}

run "refresh_finds_the_drift" {
  # A refresh-only plan shows what the refresh found: the changed phone is
  # out of the properties' phone_ids, so a normal plan adds it back.
  command = plan
  plan_options {
    mode = refresh-only
  }

  assert {
    condition     = !contains(cph_phone_properties.this["a"].phone_ids, "a1000000000000000000000000000002")
    error_message = "The phone changed outside Terraform is dropped from the state."
  }
  assert {
    condition     = contains(cph_phone_properties.this["a"].phone_ids, "a1000000000000000000000000000001")
    error_message = "The other phones keep their properties."
  }
}

run "next_apply_sets_it_again" {
  assert {
    condition     = contains(cph_phone_properties.this["a"].phone_ids, "a1000000000000000000000000000002")
    error_message = "The changed phone is back in the properties' phones."
  }
  assert {
    condition     = cph_phone_properties.this["a"].original_properties["a1000000000000000000000000000002"]["persist.sys.locale"] == "zh-CN"
    error_message = "The recorded original is still the value before Terraform, not the drift."
  }
}

run "api_shows_the_locale_back" {
  module {
    source = "./tests/emulator"
  }
  variables {
    api    = "cph"
    method = "GET"
    path   = "phones/a1000000000000000000000000000002"
    expect = "json.loads(a['property'])['persist.sys.locale'] == 'en-US'"
  }
}

# The teardown destroys the properties: server a's phones get zh-CN back;
# the bandwidth cap, which had no value, keeps 20000 (the API cannot remove
# a key).
