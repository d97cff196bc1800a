"""The links a new order answers: NATIVE's code_url, MWEB's mweb_url, and the cashier link moved to an origin."""

from __future__ import annotations

from dataclasses import replace

from mock_wechat.pay import links
from mock_wechat.pay.orders import Order

ORDER = Order(
    mch_id="1900000109",
    appid="wx5a4db0c0ffee0001",
    out_trade_no="T1",
    body="tea",
    total_fee=100,
    trade_type="NATIVE",
    notify_url="http://127.0.0.1:9/notify",
    spbill_create_ip="127.0.0.1",
    created_at=1_700_000_000.0,
    prepay_id="wx20231115061320744fca32aec3c6cd192a",
    prepay_expires_at=1_700_007_200.0,
    sign_type="MD5",
    fields={},
)


def test_a_native_order_answers_a_code_url_of_its_prepay_ids_last_seven_characters() -> None:
    assert links.payment_links(ORDER, 1_700_000_000.0) == {"code_url": "weixin://wxpay/bizpayurl?pr=6cd192a"}


def test_an_mweb_order_answers_the_cashier_with_the_second_it_was_given_as_package() -> None:
    mweb = replace(ORDER, trade_type="MWEB")
    assert links.payment_links(mweb, 1_700_000_042.7) == {
        "mweb_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb"
        "?prepay_id=wx20231115061320744fca32aec3c6cd192a&package=1700000042"
    }


def test_a_jsapi_order_answers_no_link() -> None:
    assert links.payment_links(replace(ORDER, trade_type="JSAPI"), 1_700_000_000.0) == {}


def test_a_cashier_link_moves_to_an_origin_keeping_wechats_path_and_query() -> None:
    link = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2"
    assert links.on_origin(link, "http://127.0.0.1:8600") == (
        "http://127.0.0.1:8600/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2"
    )
