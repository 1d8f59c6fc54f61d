list "cph_phone_properties" "locale" {
  provider = cph

  config {
    keys       = ["persist.sys.locale"]
    server_ids = ["a176d8625981453bbafbc0a321d8d6a1"]
  }
}
