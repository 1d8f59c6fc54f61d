# <phone ids>/<keys>, each list separated by commas.
terraform import cph_phone_properties.example 631056bfb66b4f4ea02ba25f04830cb4,id2/persist.sys.locale,disable.status.bar
