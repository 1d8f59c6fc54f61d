"""The emulator's not-found and account-state codes against the CPH API
reference's error-code table ("Error Codes", Cloud Phone Host API
reference, https://support.huaweicloud.com/en-us/api-cph/cph_api_0604.html
and https://support.huaweicloud.com/intl/en-us/api-cph/ErrorCode.html),
driven through the official SDK. The table below is what those pages
define, in this project's words."""

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcph.v1.model import (
    ImportTrafficRequest,
    ImportTrafficRequestBody,
    ListCloudPhonesRequest,
    ShowCloudPhoneDetailRequest,
    ShowCloudPhoneServerDetailRequest,
)

from conftest import make_client, running_emulator

# code -> meaning, from the reference's table.
REFERENCE = {
    "CPS.0005": "the cloud phone does not exist",
    "CPS.0006": "the account is in arrears",
    "CPS.0007": "the account is frozen",
    "CPS.0008": "the account has not completed real-name authentication",
    "CPS.0016": "server_id is invalid",
}
ACCOUNT_STATES = {"arrears": "CPS.0006", "frozen": "CPS.0007", "unverified": "CPS.0008"}

SERVER0 = "a176d8625981453bbafbc0a321d8d6a1"
PHONE0 = "631056bfb66b4f4ea02ba25f04830cb4"


@pytest.fixture()
def emu_client():
    with running_emulator() as emu:
        yield emu, make_client(emu.url)


def code_of(call):
    with pytest.raises(ClientRequestException) as err:
        call()
    return err.value.error_code


def test_a_phone_that_does_not_exist(emu_client):
    _, client = emu_client
    code = code_of(lambda: client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id="0" * 32)))
    assert code == "CPS.0005", REFERENCE["CPS.0005"]
    body = ImportTrafficRequestBody(traffic_type="direct", phone_ids=[PHONE0, "0" * 32])
    jobs = client.import_traffic(ImportTrafficRequest(body=body)).jobs
    assert jobs[1].error_code == "CPS.0005", REFERENCE["CPS.0005"]


def test_a_server_that_does_not_exist(emu_client):
    _, client = emu_client
    code = code_of(lambda: client.show_cloud_phone_server_detail(
        ShowCloudPhoneServerDetailRequest(server_id="f" * 32)))
    assert code == "CPS.0016", REFERENCE["CPS.0016"]


@pytest.mark.parametrize("state", sorted(ACCOUNT_STATES))
def test_an_account_not_in_good_standing_is_refused_with_its_code(emu_client, state):
    emu, client = emu_client
    assert emu.admin("PUT", "/account", {"state": state})["error_code"] == ACCOUNT_STATES[state]
    expected = ACCOUNT_STATES[state]
    for call in (
        lambda: client.list_cloud_phones(ListCloudPhonesRequest()),
        lambda: client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=PHONE0)),
        lambda: client.show_cloud_phone_server_detail(ShowCloudPhoneServerDetailRequest(server_id=SERVER0)),
    ):
        with pytest.raises(ClientRequestException) as err:
            call()
        assert err.value.status_code == 400
        assert err.value.error_code == expected, REFERENCE[expected]
    assert emu.admin("PUT", "/account", {"state": "normal"})["error_code"] is None
    assert client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id=PHONE0)).phone_id == PHONE0


def test_the_emulator_uses_no_reference_code_for_another_meaning(emu_client):
    """A phone or job the emulator cannot find is never answered with an
    account-state code."""
    _, client = emu_client
    code = code_of(lambda: client.show_cloud_phone_detail(ShowCloudPhoneDetailRequest(phone_id="1" * 32)))
    assert code not in ACCOUNT_STATES.values()
