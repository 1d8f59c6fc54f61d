"""Contract tests for BSS and the flavor catalogue: the official SDKs
(huaweicloudsdkbss 3.1.219 for orders, huaweicloudsdkcph 3.1.219 for the
catalogue and the orders themselves), signing with AK/SK, against an emulator
of this module's own (its orders must not disturb test_contract.py)."""

import time

import pytest
from huaweicloudsdkbss.v2.model import (
    CancelCustomerOrderReq,
    CancelCustomerOrderRequest,
    PayCustomerOrderV3Req,
    PayOrdersRequest,
    ShowCustomerOrderDetailsRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcph.v1.model import (
    ChangeCloudPhoneServerModelRequest,
    ChangeCloudPhoneServerModelRequestBody,
    ChangeCloudPhoneServerModelRequestBodyExtendParam,
    ListCloudPhoneModelsRequest,
    ListCloudPhoneServerModelsRequest,
    ShowCloudPhoneServerDetailRequest,
)

from conftest import make_bss_client, make_client, running_emulator

SERVER0 = "a176d8625981453bbafbc0a321d8d6a1"
BASE = ("physical.rx1.xlarge", "rx1.cp.c15.d46.e1v1")
SPECIAL = ("physical.rx1.xlarge.special", "rx1.cp.sp.c105.d8.e5v5")
BIG = ("physical.rx1.2xlarge.special", "rx1.cp.sp.c105.d8.e5v5")


@pytest.fixture(scope="module")
def emu():
    with running_emulator() as e:
        yield e


@pytest.fixture(scope="module")
def cph(emu):
    return make_client(emu.url)


@pytest.fixture(scope="module")
def bss(emu):
    return make_bss_client(emu.url)


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def change(cph, flavor, auto_pay=None):
    ext = None if auto_pay is None else ChangeCloudPhoneServerModelRequestBodyExtendParam(is_auto_pay=auto_pay)
    body = ChangeCloudPhoneServerModelRequestBody(
        server_id=SERVER0, server_model_name=flavor[0], phone_model_name=flavor[1], extend_param=ext)
    return cph.change_cloud_phone_server_model(ChangeCloudPhoneServerModelRequest(body=body)).order_id


def flavor(cph):
    d = cph.show_cloud_phone_server_detail(ShowCloudPhoneServerDetailRequest(server_id=SERVER0))
    return (d.server_model_name, d.phone_model_name)


def details(bss, order_id):
    return bss.show_customer_order_details(ShowCustomerOrderDetailsRequest(order_id=order_id))


def status(bss, order_id):
    return details(bss, order_id).order_info.status


def pay(bss, order_id):
    body = PayCustomerOrderV3Req(order_id=order_id, use_coupon="NO", use_discount="NO")
    return bss.pay_orders(PayOrdersRequest(body=body))


def cancel(bss, order_id):
    return bss.cancel_customer_order(CancelCustomerOrderRequest(body=CancelCustomerOrderReq(order_id=order_id)))


def test_server_models_as_the_sdk_reads_them(cph):
    resp = cph.list_cloud_phone_server_models(ListCloudPhoneServerModelsRequest())
    by_name = {m.server_model_name: m for m in resp.server_models}
    assert {"physical.rx1.xlarge", "physical.rx1.xlarge.special", "physical.rx1.2xlarge.special"} <= set(by_name)
    big = by_name["physical.rx1.2xlarge.special"]
    assert big.cpu == 128 and big.memory == 512 and big.product_type == 0
    assert isinstance(big.extend_spec.bms_flavor, str) and isinstance(big.extend_spec.numa_count, int)
    assert isinstance(big.disk_max_num, int) and isinstance(big.free_size, int)
    games = cph.list_cloud_phone_server_models(ListCloudPhoneServerModelsRequest(product_type=1))
    assert {m.product_type for m in games.server_models} == {1}
    page = cph.list_cloud_phone_server_models(ListCloudPhoneServerModelsRequest(limit=2))
    assert len(page.server_models) == 2 and page.page_info.next_marker
    rest = cph.list_cloud_phone_server_models(
        ListCloudPhoneServerModelsRequest(limit=100, marker=page.page_info.next_marker))
    assert len(page.server_models) + len(rest.server_models) == len(resp.server_models)


def test_phone_models_as_the_sdk_reads_them(cph):
    resp = cph.list_cloud_phone_models(ListCloudPhoneModelsRequest())
    rows = resp.phone_models
    sold_on = {}
    for m in rows:
        sold_on.setdefault(m.phone_model_name, []).append(m.server_model_name)
        assert isinstance(m.extend_spec, str) and isinstance(m.spec_code, str) and isinstance(m.image_label, str)
        assert isinstance(m.phone_capacity, int) and m.memory >= 1024
    assert sold_on["rx1.cp.sp.c105.d8.e5v5"] == [SPECIAL[0], BIG[0]]
    assert sold_on["rx1.cp.sp.c52.d4.e5v5"] == [SPECIAL[0]]
    withdrawn = cph.list_cloud_phone_models(ListCloudPhoneModelsRequest(status=0)).phone_models
    assert {m.phone_model_name for m in withdrawn} == {"rx1.cp.c15.d46.e1v0", "rx1.cp.sp.c105.d8.e5v4"}
    assert all(m.status == 0 for m in withdrawn)
    caps = {m.phone_capacity for m in rows if m.server_model_name == BIG[0]}
    assert caps == {15, 60}
    page = cph.list_cloud_phone_models(ListCloudPhoneModelsRequest(offset=1, limit=3))
    assert [m.phone_model_name for m in page.phone_models] == [m.phone_model_name for m in rows[1:4]]


def test_unpaid_upgrade_is_pending_until_paid(cph, bss):
    order_id = change(cph, SPECIAL, auto_pay=0)
    d = details(bss, order_id)
    assert d.order_info.order_id == order_id
    assert d.order_info.status == 6 and d.order_info.order_type == 3
    assert d.order_info.pending_payment_end_time.endswith("Z")
    assert d.order_info.payment_time is None
    assert d.total_count == 1 and d.order_line_items[0].order_id == order_id
    time.sleep(1.3)
    assert flavor(cph) == BASE
    pay(bss, order_id)
    assert status(bss, order_id) == 3
    wait_for(lambda: status(bss, order_id) == 5)
    assert flavor(cph) == SPECIAL
    with pytest.raises(ClientRequestException) as err:
        pay(bss, order_id)
    assert err.value.status_code == 400 and err.value.error_code == "CBC.99003106"


def test_cancelled_order_never_applies(cph, bss):
    order_id = change(cph, BIG)
    assert status(bss, order_id) == 6
    cancel(bss, order_id)
    assert status(bss, order_id) == 4
    time.sleep(1.3)
    assert flavor(cph) == SPECIAL
    with pytest.raises(ClientRequestException) as err:
        cancel(bss, order_id)
    assert err.value.error_code == "CBC.99005010"
    with pytest.raises(ClientRequestException) as err:
        pay(bss, order_id)
    assert err.value.error_code == "CBC.99003106"


def test_lapsed_payment_cancels_the_order(cph, bss, emu):
    order_id = change(cph, BIG, auto_pay=0)
    emu.admin("POST", f"/orders/{order_id}/lapse")
    assert status(bss, order_id) == 4
    with pytest.raises(ClientRequestException) as err:
        pay(bss, order_id)
    assert err.value.error_code == "CBC.99003110"
    assert flavor(cph) == SPECIAL


def test_downgrade_needs_no_payment(cph, bss):
    order_id = change(cph, BASE)
    assert status(bss, order_id) == 3
    wait_for(lambda: status(bss, order_id) == 5)
    assert flavor(cph) == BASE


def test_unknown_order(bss):
    for call in (details, pay, cancel):
        with pytest.raises(ClientRequestException) as err:
            call(bss, "CS0000000000NOPE0")
        assert err.value.status_code == 400 and err.value.error_code == "CBC.30000010"
        assert err.value.error_msg


def test_wrong_secret_key_is_401(emu):
    bad = make_bss_client(emu.url, sk="not-the-secret")
    with pytest.raises(ClientRequestException) as err:
        details(bad, "CS0000000000NOPE0")
    assert err.value.status_code == 401 and err.value.error_code == "APIGW.0301"


def test_bss_calls_are_counted(emu):
    calls = emu.admin("GET", "/calls")
    assert calls["calls"]["bss_show_order"] >= 1
    assert calls["calls"]["bss_pay_order"] >= 1
    assert calls["calls"]["bss_cancel_order"] >= 1
    assert calls["methods"]["PUT"] == calls["calls"]["bss_cancel_order"]
    assert calls["methods"]["POST"] == (calls["calls"]["bss_pay_order"] + calls["calls"]["change_server_model"]
                                        + calls["calls"]["phones_traffic"] + calls["calls"]["iam_tokens"])
