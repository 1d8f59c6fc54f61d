import {
  to       = cph_phone_properties.example
  identity = { id = "631056bfb66b4f4ea02ba25f04830cb4,id2/persist.sys.locale,disable.status.bar" }
}
