import {
  to       = cph_server_flavor.example
  identity = { server_id = "a176d8625981453bbafbc0a321d8d6a1" }
}
