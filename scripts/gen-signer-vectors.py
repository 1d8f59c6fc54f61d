#!/usr/bin/env python3
"""Signs a fixed set of requests with the official Huawei Cloud SDK signer
(huaweicloudsdkcore 3.1.219, BasicCredentials.sign_request, which adds
X-Project-Id and X-Security-Token the way the SDK does) and prints them as JSON
test vectors for src/cph/signer.rs.

    .tools/venv/bin/python scripts/gen-signer-vectors.py > src/cph/testdata/signer_vectors.json

The Rust unit test `cph::signer::tests::matches_official_sdk_vectors` must
reproduce every `authorization` and `uri` byte for byte. The credentials are
made-up test values.
"""

import json
import sys

import huaweicloudsdkcore
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest

DATE = "20240131T081502Z"
AK = "HPUAEXAMPLEAK0000001"
SK = "exampleSecretKey0123456789abcdefghijklmn"
TOKEN = "gQpjbi1ub3J0aC00temporary+token/with=chars"
PROJECT = "0123456789abcdef0123456789abcdef"
HOST = "cph.cn-east-3.myhuaweicloud.com"
BASE = "/v1/" + PROJECT + "/cloud-phone"

# name, method, host, path (already percent-encoded, as sent), query pairs
# (key, value) in request order, body (str or None), security token.
CASES = [
    ("get_server", "GET", HOST, BASE + "/servers/a176d8625981453bbafbc0a321d8d6a1", [], None, None),
    ("get_list_servers_paged", "GET", HOST, BASE + "/servers", [("offset", "0"), ("limit", "100")], None, None),
    ("get_jobs_request_ids", "GET", HOST, BASE + "/jobs",
     [("request_ids", "r3,r1,r2"), ("offset", "200"), ("limit", "100")], None, None),
    ("get_phones_filters_encoding", "GET", HOST, BASE + "/phones",
     [("server_id", "srv-1"), ("phone_name", "my phone/1 +ü~*"), ("status", "2"),
      ("offset", "0"), ("limit", "200")], None, None),
    ("get_repeated_keys_sorted", "GET", HOST, BASE + "/phones",
     [("b", "2"), ("a", "z"), ("a", "y"), ("a", ""), ("A", "upper"), ("a_b", "1"), ("a-b", "1"), ("a.b", "~")],
     None, None),
    ("get_reserved_chars_in_query", "GET", HOST, BASE + "/phone-models",
     [("server_model_name", "physical.rx1.xlarge.special"), ("q", "a=b&c;d:e@f$g,h?i#j[k]l!m'n(o)p%q\"r")],
     None, None),
    ("get_path_needs_encoding", "GET", HOST, BASE + "/phones/id%20with%20space%2Fslash%C3%A9", [], None, None),
    ("get_with_port_and_token", "GET", "127.0.0.1:8443", BASE + "/servers/s1", [("limit", "1")], None, TOKEN),
    ("post_change_server_model", "POST", HOST, BASE + "/servers/change-server-model", [],
     json.dumps({"server_id": "a176d8625981453bbafbc0a321d8d6a1",
                 "server_model_name": "physical.rx1.xlarge.special",
                 "phone_model_name": "rx1.cp.sp.c105.d8.e5v5",
                 "extend_param": {"is_auto_pay": 1}}, separators=(",", ":")), None),
    ("post_phones_traffic_token", "POST", HOST, BASE + "/phones-traffic", [],
     json.dumps({"traffic_type": "routing", "phone_ids": ["631056bfb66b4f4ea02ba25f04830cb4", "p2"]},
                separators=(",", ":")), TOKEN),
    ("post_empty_body", "POST", HOST, BASE + "/phones-traffic", [], None, None),
    ("post_empty_json_object", "POST", HOST, BASE + "/phones-traffic", [], "{}", None),
    ("post_unicode_body", "POST", HOST, BASE + "/phones-traffic", [("x", "1")],
     json.dumps({"name": "телефон ☎"}, ensure_ascii=False), TOKEN),
]


def sign(name, method, host, path, query, body, token):
    headers = {"X-Sdk-Date": DATE}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = SdkRequest(method=method, schema="https", host=host, resource_path=path,
                         query_params=list(query), header_params=headers,
                         body=body.encode("utf-8") if body is not None else None)
    creds = BasicCredentials(AK, SK, PROJECT)
    if token is not None:
        creds = creds.with_security_token(token)
    signed = creds.sign_request(request)
    return {
        "name": name,
        "method": method,
        "host": host,
        "path": path,
        "query": [[k, v] for k, v in query],
        "body": body,
        "security_token": token,
        "expected": {
            "authorization": signed.header_params["Authorization"],
            "uri": signed.uri,
            "headers": {k: v for k, v in signed.header_params.items() if k != "Authorization"},
        },
    }


def main():
    vectors = {
        "sdk": "huaweicloudsdkcore " + getattr(huaweicloudsdkcore, "__version__", "3.1.219"),
        "date": DATE,
        "access_key": AK,
        "secret_key": SK,
        "project_id": PROJECT,
        "cases": [sign(*c) for c in CASES],
    }
    json.dump(vectors, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
