"""Contract test of agencies: the official IAM SDK (huaweicloudsdkiam
3.1.219) assumes the emulator's agency with the user's AK/SK
(`create_temporary_access_key_by_agency`), and the temporary keys it gets
sign CPH calls through the official CPH SDK until they expire."""

import time

import pytest

iam = pytest.importorskip("huaweicloudsdkiam.v3")
from huaweicloudsdkiam.v3.model import (  # noqa: E402
    AgencyAuth,
    AgencyAuthIdentity,
    CreateTemporaryAccessKeyByAgencyRequest,
    CreateTemporaryAccessKeyByAgencyRequestBody,
    IdentityAssumerole,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402
from huaweicloudsdkcore.region.region import Region  # noqa: E402
from huaweicloudsdkcph.v1 import CphClient  # noqa: E402
from huaweicloudsdkcph.v1.model import ListCloudPhoneServersRequest  # noqa: E402

from conftest import AK, PROJECT_ID, REGION, SK, http_config, running_emulator  # noqa: E402


def assume(url, agency):
    creds = GlobalCredentials(AK, SK).with_iam_endpoint(url)
    client = (iam.IamClient.new_builder().with_http_config(http_config())
              .with_credentials(creds).with_region(Region(REGION, url)).build())
    role = IdentityAssumerole(agency_name=agency, domain_name="emulator-domain", duration_seconds=900)
    body = CreateTemporaryAccessKeyByAgencyRequestBody(
        auth=AgencyAuth(identity=AgencyAuthIdentity(methods=["assume_role"], assume_role=role)))
    return client.create_temporary_access_key_by_agency(
        CreateTemporaryAccessKeyByAgencyRequest(body=body)).credential


def cph_with(url, credential):
    creds = (BasicCredentials(credential.access, credential.secret, PROJECT_ID)
             .with_security_token(credential.securitytoken))
    return (CphClient.new_builder().with_http_config(http_config())
            .with_credentials(creds).with_endpoints([url]).build())


def test_the_iam_sdk_assumes_the_agency_and_its_keys_expire():
    with running_emulator("--agency-seconds", "2") as emu:
        credential = assume(emu.url, "cph-agency")
        assert credential.access and credential.secret and credential.securitytoken
        assert credential.expires_at
        cph = cph_with(emu.url, credential)
        assert cph.list_cloud_phone_servers(ListCloudPhoneServersRequest(offset=0, limit=10)).servers
        time.sleep(2.5)
        with pytest.raises(ClientRequestException) as err:
            cph.list_cloud_phone_servers(ListCloudPhoneServersRequest(offset=0, limit=10))
        assert err.value.status_code == 401
        assert err.value.error_code == "APIGW.0301"


def test_an_agency_that_does_not_trust_the_user_is_refused(emulator):
    with pytest.raises(ClientRequestException) as err:
        assume(emulator.url, "nobody")
    assert err.value.status_code == 403
