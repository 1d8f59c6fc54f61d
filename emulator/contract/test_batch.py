"""Contract tests of the batch operations and the server filters, driven
with the official SDK (huaweicloudsdkcph): batch restart, reset and stop of
phones, batch restart of servers, their jobs, phone statuses on the way, a
failure injected per phone, and list-servers filters. Each test starts its
own emulator so that statuses start from running."""

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcph.v1.model import (
    ListCloudPhoneServersRequest,
    ListCloudPhonesRequest,
    ListJobsRequest,
    PhoneProperty,
    ResetCloudPhoneRequest,
    ResetCloudPhoneRequestBody,
    ResetPhoneProperty,
    RestartCloudPhoneRequest,
    RestartCloudPhoneRequestBody,
    RestartCloudPhoneServerRequest,
    RestartCloudPhoneServerRequestBody,
    ShowCloudPhoneDetailRequest,
    StopCloudPhoneRequest,
    StopCloudPhoneRequestBody,
)

from conftest import make_client, running_emulator


@pytest.fixture
def fresh():
    with running_emulator("--servers", "2", "--phones-per-server", "3") as emu:
        # Long enough to see the statuses jobs pass through.
        emu.admin("PUT", "/settings", {"job_seconds": 1.0})
        yield emu, make_client(emu.url)


def phone_ids(client):
    return [p.phone_id for p in client.list_cloud_phones(ListCloudPhonesRequest(limit=200)).phones]


def status(client, phone_id):
    return client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=phone_id)).status


def wait_jobs(client, request_id, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        jobs = client.list_jobs(ListJobsRequest(request_id=request_id)).jobs
        if jobs and all(j.status != 1 for j in jobs):
            return jobs
        time.sleep(0.1)
    raise AssertionError("jobs did not end in time")


def test_restart_passes_through_restarting_and_comes_back(fresh):
    _, client = fresh
    ids = phone_ids(client)[:2]
    body = RestartCloudPhoneRequestBody(
        image_id="img-1",
        phones=[PhoneProperty(phone_id=ids[0], _property='{"a":"1"}'), PhoneProperty(phone_id=ids[1])],
    )
    resp = client.restart_cloud_phone(RestartCloudPhoneRequest(body=body))
    assert resp.request_id
    assert [j.phone_id for j in resp.jobs] == ids
    assert all(j.job_id for j in resp.jobs)
    assert status(client, ids[0]) == 4
    jobs = wait_jobs(client, resp.request_id)
    assert sorted(j.job_id for j in jobs) == sorted(j.job_id for j in resp.jobs)
    assert all(j.status == 2 for j in jobs)
    assert [status(client, p) for p in ids] == [2, 2]


def test_reset_and_stop(fresh):
    _, client = fresh
    ids = phone_ids(client)[:2]
    body = ResetCloudPhoneRequestBody(phones=[ResetPhoneProperty(phone_id=ids[0], factory_reset_enabled=True)])
    resp = client.reset_cloud_phone(ResetCloudPhoneRequest(body=body))
    assert status(client, ids[0]) == 3
    wait_jobs(client, resp.request_id)
    assert status(client, ids[0]) == 2
    resp = client.stop_cloud_phone(StopCloudPhoneRequest(body=StopCloudPhoneRequestBody(phone_ids=ids)))
    assert status(client, ids[1]) == 7
    wait_jobs(client, resp.request_id)
    assert [status(client, p) for p in ids] == [8, 8]
    # A stopped phone cannot be stopped again, and is refused per phone.
    again = client.stop_cloud_phone(StopCloudPhoneRequest(body=StopCloudPhoneRequestBody(phone_ids=ids[:1])))
    assert again.jobs[0].job_id is None and again.jobs[0].error_code == "CPS.0010"


def test_a_failure_is_injected_per_phone(fresh):
    emu, client = fresh
    ids = phone_ids(client)[:3]
    emu.admin("POST", "/fail-jobs", {"phone_ids": [ids[1]]})
    body = RestartCloudPhoneRequestBody(phones=[PhoneProperty(phone_id=p) for p in ids + ["0" * 32]])
    resp = client.restart_cloud_phone(RestartCloudPhoneRequest(body=body))
    assert resp.jobs[3].job_id is None and resp.jobs[3].error_code == "CPS.0005"
    jobs = {j.phone_id: j for j in wait_jobs(client, resp.request_id)}
    assert jobs[ids[1]].status == -1 and jobs[ids[1]].error_code == "CPS.0020"
    assert jobs[ids[0]].status == 2 and jobs[ids[2]].status == 2


def test_server_restart_and_limits(fresh):
    _, client = fresh
    servers = [s.server_id for s in client.list_cloud_phone_servers(ListCloudPhoneServersRequest()).servers]
    body = RestartCloudPhoneServerRequestBody(server_ids=servers[:1])
    resp = client.restart_cloud_phone_server(RestartCloudPhoneServerRequest(body=body))
    assert resp.jobs[0].server_id == servers[0] and resp.jobs[0].job_id
    jobs = wait_jobs(client, resp.request_id)
    assert jobs[0].status == 2
    with pytest.raises(ClientRequestException) as e:
        too_many = RestartCloudPhoneServerRequestBody(server_ids=["a"] * 101)
        client.restart_cloud_phone_server(RestartCloudPhoneServerRequest(body=too_many))
    assert e.value.status_code == 400


def test_server_filters(fresh):
    _, client = fresh
    servers = client.list_cloud_phone_servers(ListCloudPhoneServersRequest()).servers
    name = servers[1].server_name
    fuzzy = client.list_cloud_phone_servers(ListCloudPhoneServersRequest(server_name=name[1:-1])).servers
    assert name in [s.server_name for s in fuzzy]
    one = client.list_cloud_phone_servers(ListCloudPhoneServersRequest(server_id=servers[0].server_id)).servers
    assert [s.server_id for s in one] == [servers[0].server_id]
    none = client.list_cloud_phone_servers(ListCloudPhoneServersRequest(create_until=0)).servers
    assert none == []
    paged = client.list_cloud_phone_servers(ListCloudPhoneServersRequest(limit=1))
    assert len(paged.servers) == 1 and paged.count == 2
