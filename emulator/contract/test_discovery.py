"""Contract tests of the account model: the official SDK's own discovery of
the project (`BasicCredentials(ak, sk)`) and of the account
(`GlobalCredentials(ak, sk)`) at the emulator's IAM, and the gateway's
refusal of AK/SK calls that do not sign their scope as the SDK does."""

import pytest
from huaweicloudsdkbss.v2 import BssClient
from huaweicloudsdkbss.v2.model import ShowCustomerOrderDetailsRequest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, SdkException
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcph.v1 import CphClient
from huaweicloudsdkcph.v1.model import ListCloudPhoneServersRequest

from conftest import AK, DOMAIN_ID, PROJECT_ID, SK, http_config


def test_basic_credentials_find_the_project_of_the_region(emulator):
    creds = BasicCredentials(AK, SK).with_iam_endpoint(emulator.url)
    client = (CphClient.new_builder().with_http_config(http_config())
              .with_credentials(creds).with_region(Region("cn-east-3", emulator.url)).build())
    assert creds.project_id == PROJECT_ID
    servers = client.list_cloud_phone_servers(ListCloudPhoneServersRequest(offset=0, limit=10))
    assert servers.servers


def test_an_unknown_region_has_no_project(emulator):
    creds = BasicCredentials(AK + "X", SK).with_iam_endpoint(emulator.url)
    with pytest.raises(SdkException) as err:
        (CphClient.new_builder().with_http_config(http_config())
         .with_credentials(creds).with_region(Region("xx-nowhere-1", emulator.url)).build())
    assert "xx-nowhere-1" in str(err.value)


def test_global_credentials_find_the_account(emulator):
    creds = GlobalCredentials(AK, SK).with_iam_endpoint(emulator.url)
    client = (BssClient.new_builder().with_http_config(http_config())
              .with_credentials(creds).with_region(Region("cn-east-3", emulator.url)).build())
    assert creds.domain_id == DOMAIN_ID
    with pytest.raises(ClientRequestException) as err:
        client.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id="CS-NONE"))
    # Through the gateway to BSS, which does not know the order.
    assert err.value.error_code.startswith("CBC."), err.value


def test_bss_refuses_aksk_without_a_signed_domain_id(emulator):
    # Endpoints only: the SDK looks nothing up and sends no X-Domain-Id.
    creds = GlobalCredentials(AK, SK)
    client = (BssClient.new_builder().with_http_config(http_config())
              .with_credentials(creds).with_endpoints([emulator.url]).build())
    with pytest.raises(ClientRequestException) as err:
        client.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id="CS-NONE"))
    assert err.value.status_code == 401
    assert err.value.error_code == "APIGW.0301"
    assert "X-Domain-Id" in err.value.error_msg



def test_an_international_account_is_refused_at_the_chinese_bss_endpoint():
    from huaweicloudsdkbss.v2.model import ListServiceTypesRequest

    from conftest import make_bss_client, running_emulator

    with running_emulator("--international") as emu:
        chinese = make_bss_client(emu.url)
        with pytest.raises(ClientRequestException) as err:
            chinese.list_service_types(ListServiceTypesRequest(limit=1))
        assert err.value.status_code == 403
        assert err.value.error_code == "CBC.0150"
    # A Chinese account's probe succeeds.
    with running_emulator() as emu:
        types = make_bss_client(emu.url).list_service_types(ListServiceTypesRequest(limit=1))
        assert types.service_types
