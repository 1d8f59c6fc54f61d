"""Contract tests of phone properties, ADB commands and connections, driven
with the official SDK (huaweicloudsdkcph): batch-update-property and its
jobs, `property` in show phone, restart and reset carrying properties,
phones/commands (install, uninstall, shell answers, server_ids, CPS.0117 and
CPS.0118), and batch-connection (tickets, errors[], the 10-id limit). Each
test starts its own emulator."""

import json
import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcph.v1.model import (
    BatchShowPhoneConnectInfosRequest,
    ConnectionRequestBody,
    ListCloudPhoneServersRequest,
    ListCloudPhonesRequest,
    ListJobsRequest,
    PhoneProperty,
    PropertyToUpdate,
    ResetCloudPhoneRequest,
    ResetCloudPhoneRequestBody,
    ResetPhoneProperty,
    RestartCloudPhoneRequest,
    RestartCloudPhoneRequestBody,
    RunShellCommandRequest,
    RunShellCommandRequestBody,
    ShowCloudPhoneDetailRequest,
    UpdateCloudPhonePropertyRequest,
    UpdateCloudPhonePropertyRequestBody,
)

from conftest import make_client, running_emulator

MISSING = "0" * 32


@pytest.fixture
def fresh():
    with running_emulator("--servers", "2", "--phones-per-server", "3") as emu:
        yield emu, make_client(emu.url)


def phone_ids(client):
    return [p.phone_id for p in client.list_cloud_phones(ListCloudPhonesRequest(limit=200)).phones]


def wait_jobs(client, request_id, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        jobs = client.list_jobs(ListJobsRequest(request_id=request_id)).jobs
        if jobs and all(j.status != 1 for j in jobs):
            return {j.phone_id: j for j in jobs}
        time.sleep(0.1)
    raise AssertionError("jobs did not end in time")


def properties(client, phone_id):
    return json.loads(client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=phone_id))._property)


def missing_phone_code(client):
    """The code show phone answers for a phone that does not exist."""
    with pytest.raises(ClientRequestException) as e:
        client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=MISSING))
    return e.value.error_code


def update(client, items):
    body = UpdateCloudPhonePropertyRequestBody(phones=[PropertyToUpdate(phone_id=p, _property=json.dumps(v))
                                                       for p, v in items])
    return client.update_cloud_phone_property(UpdateCloudPhonePropertyRequest(body=body))


def test_update_property_applies_when_the_job_succeeds(fresh):
    emu, client = fresh
    ids = phone_ids(client)
    assert properties(client, ids[0]) == {}
    emu.admin("POST", "/fail-jobs", {"phone_ids": [ids[1]]})
    resp = update(client, [(ids[0], {"persist.sys.locale": "en-US", "com.cph.mainkeys": "1"}),
                           (ids[1], {"disable.status.bar": "1"}), (MISSING, {"ro.install.auto": "1"})])
    assert resp.jobs[0].job_id and resp.jobs[1].job_id
    assert resp.jobs[2].job_id is None and resp.jobs[2].error_code == missing_phone_code(client)
    jobs = wait_jobs(client, resp.request_id)
    assert jobs[ids[0]].status == 2
    assert jobs[ids[1]].status == -1 and jobs[ids[1]].error_code == "CPS.0020"
    assert properties(client, ids[0]) == {"persist.sys.locale": "en-US", "com.cph.mainkeys": "1"}
    assert properties(client, ids[1]) == {}
    # Keys merge: a later update leaves the other keys alone.
    wait_jobs(client, update(client, [(ids[0], {"com.cph.mainkeys": "0"})]).request_id)
    assert properties(client, ids[0]) == {"persist.sys.locale": "en-US", "com.cph.mainkeys": "0"}


@pytest.mark.parametrize("bad", [
    {"com.cph.bandwidth_limit": "0"},
    {"disable.status.bar": "yes"},
    {"sys.prop.writeimsi": "12345678901234567"},
    {"persist.sys.locale": "en_US!"},
])
def test_bad_property_values_are_refused(fresh, bad):
    _, client = fresh
    ids = phone_ids(client)
    with pytest.raises(ClientRequestException) as e:
        update(client, [(ids[0], {"com.cph.mainkeys": "1"}), (ids[1], bad)])
    assert e.value.status_code == 400 and e.value.error_code == "CPS.0119"
    assert ids[1] in e.value.error_msg
    assert properties(client, ids[0]) == {}


def test_property_over_2048_bytes_is_refused_per_phone(fresh):
    _, client = fresh
    ids = phone_ids(client)
    big = {f"vendor.key.{i}": "x" * 60 for i in range(40)}
    resp = update(client, [(ids[0], big)])
    assert resp.jobs[0].job_id is None and resp.jobs[0].error_code == "CPS.0119"


def test_restart_and_reset_carry_properties(fresh):
    _, client = fresh
    ids = phone_ids(client)
    body = RestartCloudPhoneRequestBody(phones=[PhoneProperty(phone_id=ids[0], _property='{"ro.com.cph.non_root":"0"}')])
    resp = client.restart_cloud_phone(RestartCloudPhoneRequest(body=body))
    wait_jobs(client, resp.request_id)
    assert properties(client, ids[0]) == {"ro.com.cph.non_root": "0"}
    with pytest.raises(ClientRequestException) as e:
        bad = RestartCloudPhoneRequestBody(phones=[PhoneProperty(phone_id=ids[0], _property='{"ro.install.auto":"2"}')])
        client.restart_cloud_phone(RestartCloudPhoneRequest(body=bad))
    assert e.value.error_code == "CPS.0119"
    body = ResetCloudPhoneRequestBody(phones=[
        ResetPhoneProperty(phone_id=ids[0], _property='{"com.cph.mainkeys":"1"}', factory_reset_enabled=True)])
    wait_jobs(client, client.reset_cloud_phone(ResetCloudPhoneRequest(body=body)).request_id)
    assert properties(client, ids[0]) == {"com.cph.mainkeys": "1"}


def command(client, cmd, content, phone_ids=None, server_ids=None):
    body = RunShellCommandRequestBody(command=cmd, content=content, phone_ids=phone_ids, server_ids=server_ids)
    return client.run_shell_command(RunShellCommandRequest(body=body))


def outputs(client, resp):
    return {p: (j.status, j.execute_msg) for p, j in wait_jobs(client, resp.request_id).items()}


def test_commands_install_list_getprop_echo_uninstall(fresh):
    _, client = fresh
    ids = phone_ids(client)[:2]
    wait_jobs(client, update(client, [(ids[0], {"persist.sys.locale": "fr-FR"})]).request_id)
    resp = command(client, "install", "-t -r obs://bucket/apps/com.example.shop.apk", phone_ids=ids)
    assert [j.phone_id for j in resp.jobs] == ids and all(j.job_id for j in resp.jobs)
    assert outputs(client, resp) == {p: (2, "Success") for p in ids}
    listed = outputs(client, command(client, "shell", "pm list packages", phone_ids=ids))
    assert listed == {p: (2, "package:com.example.shop") for p in ids}
    prop = outputs(client, command(client, "shell", "getprop persist.sys.locale", phone_ids=ids))
    assert prop == {ids[0]: (2, "fr-FR"), ids[1]: (2, "")}
    echo = outputs(client, command(client, "shell", "echo hello world", phone_ids=ids[:1]))
    assert echo == {ids[0]: (2, "hello world")}
    assert outputs(client, command(client, "uninstall", "com.example.shop", phone_ids=ids[:1]))[ids[0]] == (2, "Success")
    after = outputs(client, command(client, "shell", "pm list packages", phone_ids=ids))
    assert after == {ids[0]: (2, ""), ids[1]: (2, "package:com.example.shop")}
    pushed = outputs(client, command(client, "push", "obs://bucket/data.tar", phone_ids=ids[:1]))
    assert pushed == {ids[0]: (2, "Success")}


def test_commands_to_servers_reach_every_phone(fresh):
    emu, client = fresh
    servers = [s.server_id for s in client.list_cloud_phone_servers(ListCloudPhoneServersRequest()).servers]
    phones = [p.phone_id for p in client.list_cloud_phones(ListCloudPhonesRequest(server_id=servers[1])).phones]
    emu.admin("POST", "/fail-jobs", {"phone_ids": [phones[2]]})
    resp = command(client, "shell", "echo hi", server_ids=[servers[1], "f" * 32])
    assert [j.phone_id for j in resp.jobs[:3]] == phones
    assert resp.jobs[3].job_id is None and resp.jobs[3].error_code
    jobs = wait_jobs(client, resp.request_id)
    assert [jobs[p].status for p in phones] == [2, 2, -1]
    assert jobs[phones[0]].execute_msg == "hi" and jobs[phones[2]].error_code == "CPS.0020"


@pytest.mark.parametrize("cmd,content,code", [
    ("reboot", "now", "CPS.0117"),
    ("shell", "echo a;b", "CPS.0118"),
    ("shell", "echo $HOME", "CPS.0118"),
    ("shell", "echo 'x'", "CPS.0118"),
    ("shell", "a" * 1025, "CPS.0118"),
    ("shell", "", "CPS.0118"),
    ("install", "-r obs://bucket/app.zip", "CPS.0118"),
])
def test_bad_commands_are_refused(fresh, cmd, content, code):
    _, client = fresh
    with pytest.raises(ClientRequestException) as e:
        command(client, cmd, content, phone_ids=phone_ids(client)[:1])
    assert e.value.status_code == 400 and e.value.error_code == code


def connect(client, ids, client_type="ANDROID"):
    body = ConnectionRequestBody(phone_ids=ids, client_type=client_type)
    return client.batch_show_phone_connect_infos(BatchShowPhoneConnectInfosRequest(body=body))


def test_batch_connection_gives_tickets_and_errors(fresh):
    _, client = fresh
    ids = phone_ids(client)[:2]
    resp = connect(client, ids + [MISSING], "H5_PC")
    assert resp.request_id
    assert [c.phone_id for c in resp.connect_infos] == ids
    info = resp.connect_infos[0].access_info
    assert info.access_ip and info.intranet_ip and info.access_ipv6 and info.session_id and info.timestamp
    assert isinstance(info.access_port, int) and len(info.ticket) >= 32
    assert resp.connect_infos[1].access_info.ticket != info.ticket
    assert connect(client, ids[:1]).connect_infos[0].access_info.ticket != info.ticket
    assert [(e.phone_id, e.error_code) for e in resp.errors] == [(MISSING, missing_phone_code(client))]


def test_batch_connection_limits(fresh):
    _, client = fresh
    ids = phone_ids(client)
    with pytest.raises(ClientRequestException) as e:
        connect(client, (ids * 4)[:11])
    assert e.value.status_code == 400
    with pytest.raises(ClientRequestException) as e:
        connect(client, ids[:1], "SYMBIAN")
    assert e.value.status_code == 400 and "ANDROID" in e.value.error_msg
    assert len(connect(client, (ids * 4)[:10]).connect_infos) == 10
