"""Contract tests: the official Huawei Cloud Python SDK (huaweicloudsdkcph
3.1.219), signing with AK/SK, drives a running cph-emulator."""

import json
import time
import urllib.error
import urllib.request

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcph.v1.model import (
    ChangeCloudPhoneServerModelRequest,
    ChangeCloudPhoneServerModelRequestBody,
    ChangeCloudPhoneServerModelRequestBodyExtendParam,
    ImportTrafficRequest,
    ImportTrafficRequestBody,
    ListCloudPhoneModelsRequest,
    ListCloudPhoneServerModelsRequest,
    ListCloudPhoneServersRequest,
    ListCloudPhonesRequest,
    ListJobsRequest,
    ShowCloudPhoneDetailRequest,
    ShowCloudPhoneServerDetailRequest,
    ShowJobRequest,
)

from conftest import PROJECT_ID, make_client

SERVER0 = "a176d8625981453bbafbc0a321d8d6a1"
PHONE0 = "631056bfb66b4f4ea02ba25f04830cb4"


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def route(client, traffic_type, phone_ids):
    body = ImportTrafficRequestBody(traffic_type=traffic_type, phone_ids=phone_ids)
    return client.import_traffic(ImportTrafficRequest(body=body))


def test_list_servers_and_detail(client):
    resp = client.list_cloud_phone_servers(ListCloudPhoneServersRequest(offset=0, limit=10))
    assert resp.count == 2
    assert [s.server_id for s in resp.servers][0] == SERVER0
    assert len(resp.request_id) == 32
    detail = client.show_cloud_phone_server_detail(ShowCloudPhoneServerDetailRequest(server_id=SERVER0))
    assert detail.server_model_name in ("physical.rx1.xlarge", "physical.rx1.xlarge.special")
    assert detail.status == 5


def test_list_phones_and_detail(client):
    resp = client.list_cloud_phones(ListCloudPhonesRequest(server_id=SERVER0, limit=200))
    assert resp.count == 3
    assert resp.phones[0].phone_id == PHONE0
    assert resp.phones[0].phone_name == "phone-0-0"
    all_phones = client.list_cloud_phones(ListCloudPhonesRequest(offset=1, limit=2))
    assert all_phones.count == 6 and len(all_phones.phones) == 2
    detail = client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=PHONE0))
    assert detail.server_id == SERVER0
    assert detail.status == 2
    assert detail.traffic_type in ("direct", "routing")


def test_route_two_phones_jobs_succeed(client):
    phones = client.list_cloud_phones(ListCloudPhonesRequest(limit=200)).phones
    ids = [p.phone_id for p in phones if p.server_id != SERVER0][:2]
    assert len(ids) == 2
    resp = route(client, "routing", ids)
    assert [j.phone_id for j in resp.jobs] == ids
    job_ids = [j.job_id for j in resp.jobs]
    assert all(job_ids) and not any(j.error_code for j in resp.jobs)
    # Not yet: the route changes only when the job finishes.
    first = client.show_job(ShowJobRequest(job_id=job_ids[0]))
    if first.status == 1:
        assert client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=ids[0])).traffic_type == "direct"
    for job_id in job_ids:
        wait_for(lambda: client.show_job(ShowJobRequest(job_id=job_id)).status == 2)
    listed = client.list_jobs(ListJobsRequest(request_id=resp.request_id))
    assert sorted(j.job_id for j in listed.jobs) == sorted(job_ids)
    assert all(j.status == 2 for j in listed.jobs)
    by_ids = client.list_jobs(ListJobsRequest(request_ids=resp.request_id + ",0" * 1, limit=1))
    assert len(by_ids.jobs) == 1
    for pid in ids:
        assert client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=pid)).traffic_type == "routing"


def test_route_unknown_phone_reported_in_jobs(client):
    resp = route(client, "direct", [PHONE0, "0" * 32])
    assert resp.jobs[0].job_id
    assert resp.jobs[1].job_id is None
    assert resp.jobs[1].error_code == "CPS.0006"


def test_change_server_flavor_applies_after_order_time(client, emulator):
    ext = ChangeCloudPhoneServerModelRequestBodyExtendParam(is_auto_pay=1)
    body = ChangeCloudPhoneServerModelRequestBody(
        server_id=SERVER0, server_model_name="physical.rx1.xlarge.special",
        phone_model_name="rx1.cp.sp.c105.d8.e5v5", extend_param=ext)
    resp = client.change_cloud_phone_server_model(ChangeCloudPhoneServerModelRequest(body=body))
    assert resp.order_id.startswith("CS") and len(resp.order_id) == 17
    assert resp.product_id
    detail = client.show_cloud_phone_server_detail(ShowCloudPhoneServerDetailRequest(server_id=SERVER0))
    assert detail.server_model_name == "physical.rx1.xlarge"
    assert detail.phone_model_name == "rx1.cp.c15.d46.e1v1"
    # A second change while the order runs is refused.
    with pytest.raises(ClientRequestException) as err:
        client.change_cloud_phone_server_model(ChangeCloudPhoneServerModelRequest(body=body))
    assert err.value.error_code == "CPS.0040"
    wait_for(lambda: client.show_cloud_phone_server_detail(
        ShowCloudPhoneServerDetailRequest(server_id=SERVER0)).server_model_name == "physical.rx1.xlarge.special")
    detail = client.show_cloud_phone_server_detail(ShowCloudPhoneServerDetailRequest(server_id=SERVER0))
    assert detail.phone_model_name == "rx1.cp.sp.c105.d8.e5v5"
    orders = emulator.admin("GET", "/orders")["orders"]
    assert [o["status"] for o in orders if o["order_id"] == resp.order_id] == ["succeeded"]
    # The same flavor again is refused.
    with pytest.raises(ClientRequestException) as err:
        client.change_cloud_phone_server_model(ChangeCloudPhoneServerModelRequest(body=body))
    assert err.value.status_code == 400 and err.value.error_code == "CPS.0031"


def test_list_server_and_phone_models(client):
    servers = client.list_cloud_phone_server_models(ListCloudPhoneServerModelsRequest())
    names = [m.server_model_name for m in servers.server_models]
    assert "physical.rx1.xlarge" in names and "physical.rx1.xlarge.special" in names
    phones = client.list_cloud_phone_models(ListCloudPhoneModelsRequest(status=1))
    # One row per server flavor and phone flavor pair: a phone flavor may be sold on several.
    by_pair = {(m.server_model_name, m.phone_model_name): m for m in phones.phone_models}
    special = by_pair[("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5")]
    assert by_pair[("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1")].phone_capacity == special.phone_capacity
    assert all(m.status == 1 for m in phones.phone_models)


def test_bad_route_is_refused(client):
    with pytest.raises(ClientRequestException) as err:
        route(client, "sideways", [PHONE0])
    assert err.value.status_code == 400
    assert err.value.error_code == "CPS.0002"
    assert "direct" in err.value.error_msg and "routing" in err.value.error_msg
    assert len(err.value.request_id) == 32


def test_101_phone_ids_are_refused(client):
    with pytest.raises(ClientRequestException) as err:
        route(client, "routing", ["%032x" % i for i in range(101)])
    assert err.value.status_code == 400
    assert err.value.error_code == "CPS.0003"


def test_unknown_server_is_404(client):
    with pytest.raises(ClientRequestException) as err:
        client.show_cloud_phone_server_detail(ShowCloudPhoneServerDetailRequest(server_id="f" * 32))
    assert err.value.status_code == 404
    assert err.value.error_code == "CPS.0005"


def test_cross_generation_change_is_refused(client):
    body = ChangeCloudPhoneServerModelRequestBody(
        server_id="2f9f8c54d6d0eec96e34faa0fc5c8e96", server_model_name="physical.kg1.4xlarge.cp",
        phone_model_name="kg1.cp.c15.d46.e1v1")
    with pytest.raises(ClientRequestException) as err:
        client.change_cloud_phone_server_model(ChangeCloudPhoneServerModelRequest(body=body))
    assert err.value.error_code == "CPS.0032"


def test_wrong_secret_key_is_401(emulator):
    bad = make_client(emulator.url, sk="not-the-secret")
    with pytest.raises(ClientRequestException) as err:
        bad.list_cloud_phone_servers(ListCloudPhoneServersRequest())
    assert err.value.status_code == 401
    assert err.value.error_code == "APIGW.0301"


def test_unsigned_request_is_401(emulator):
    url = f"{emulator.url}/v1/{PROJECT_ID}/cloud-phone/servers"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=10)
    assert err.value.code == 401
    body = json.loads(err.value.read())
    assert body["error_code"] == "APIGW.0301"
    assert err.value.headers["X-Request-Id"] == body["request_id"]


def test_iam_token_auth(emulator):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "emulator-user", "password": "emulator-password", "domain": {"name": "emulator-domain"}}}},
        "scope": {"project": {"id": PROJECT_ID}}}}
    req = urllib.request.Request(emulator.url + "/v3/auth/tokens", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201
        token = resp.headers["X-Subject-Token"]
        assert json.loads(resp.read())["token"]["expires_at"]
    req = urllib.request.Request(f"{emulator.url}/v1/{PROJECT_ID}/cloud-phone/servers",
                                 headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["count"] == 2
    body["auth"]["identity"]["password"]["user"]["password"] = "wrong"
    req = urllib.request.Request(emulator.url + "/v3/auth/tokens", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 401


def test_calls_are_counted(emulator):
    calls = emulator.admin("GET", "/calls")["calls"]
    assert calls["list_servers"] >= 1
    assert set(calls) == {"change_server_model", "phones_traffic", "show_server", "list_servers", "show_phone",
                          "list_phones", "show_job", "list_jobs", "list_server_models", "list_phone_models",
                          "iam_tokens", "iam_projects", "iam_domains", "iam_securitytokens",
                          "bss_show_order", "bss_pay_order", "bss_cancel_order", "bss_service_types",
                          "restart_phones", "reset_phones", "stop_phones", "restart_servers",
                          "update_phone_property", "phone_commands", "phone_connection"}
