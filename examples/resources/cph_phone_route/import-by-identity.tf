import {
  to       = cph_phone_route.example
  identity = { id = "a176d8625981453bbafbc0a321d8d6a1/routing" }
}
