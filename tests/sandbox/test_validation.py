"""Create Order v2 and the other request schemas (docs/binance-pay.md#create-order,
docs/binance-pay.md#share-account-id, docs/binance-pay.md#endpoints)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .conftest import DELETE, InProcess, order_payload, set_field

DAY = 24 * 3600 * 1000

# (field path, bad value, code, text in errorMessage)
BAD = [
    ("env", DELETE, "400100", "env"),
    ("env", "WEB", "400100", "env"),
    ("env.terminalType", DELETE, "400100", "env.terminalType"),
    ("env.terminalType", "PC", "400102", "env.terminalType"),
    ("env.terminalType", "web", "400102", "env.terminalType"),
    ("env.osType", "WINDOWS", "400102", "env.osType"),
    ("merchantTradeNo", DELETE, "400100", "merchantTradeNo"),
    ("merchantTradeNo", "abc-123", "400201", "merchantTradeNo"),
    ("merchantTradeNo", "a" * 33, "400201", "merchantTradeNo"),
    ("merchantTradeNo", 12345, "400100", "merchantTradeNo"),
    ("orderAmount", DELETE, "400100", "orderAmount"),
    ("orderAmount", "0", "400102", "orderAmount"),
    ("orderAmount", "0.000000001", "400101", "orderAmount"),
    ("orderAmount", "-1", "400102", "orderAmount"),
    ("orderAmount", "1e3", "400100", "orderAmount"),
    ("orderAmount", "NaN", "400100", "orderAmount"),
    ("orderAmount", "Infinity", "400100", "orderAmount"),
    ("orderAmount", " 5", "400100", "orderAmount"),
    ("orderAmount", True, "400100", "orderAmount"),
    ("orderAmount", [1], "400100", "orderAmount"),
    ("orderAmount", "1000000000000", "400102", "orderAmount"),
    ("currency", "usdt", "400102", "currency"),
    ("currency", "DOGE", "400102", "currency"),
    ("currency", "EUR", "400102", "fiat"),
    ("currency", DELETE, "400100", "currency"),
    ("goods", DELETE, "400100", "goods"),
    ("goods.goodsType", "03", "400102", "goods.goodsType"),
    ("goods.goodsType", DELETE, "400100", "goods.goodsType"),
    ("goods.goodsCategory", "Y000", "400102", "goods.goodsCategory"),
    ("goods.referenceGoodsId", DELETE, "400100", "goods.referenceGoodsId"),
    ("goods.goodsName", DELETE, "400100", "goods.goodsName"),
    ("goods.goodsName", "x" * 257, "400101", "goods.goodsName"),
    ("goods.goodsName", 'Ice "Cream"', "400103", "goods.goodsName: must not contain"),
    ("goods.goodsName", "Ice\\Cream", "400103", "goods.goodsName"),
    ("goods.goodsName", "Ice Cream \U0001f366", "400103", "goods.goodsName"),
    ("goods.goodsName", "Sunny \u2600", "400103", "goods.goodsName"),
    ("goods.goodsName", "Keycap 1\u20e3", "400103", "goods.goodsName"),
    ("goods.goodsName", "Square \u25fd", "400103", "goods.goodsName"),
    # a lone surrogate (JSON "\\ud800") is not UTF-8 text: refused, never stored and echoed
    ("goods.goodsName", "x\ud800", "400100", "goods.goodsName: must be valid Unicode text"),
    ("universalUrlAttach", "x\udfff", "400100", "universalUrlAttach: must be valid Unicode"),
    ("passThroughInfo", "\ud800", "400100", "passThroughInfo: must be valid Unicode text"),
    ("goods.goodsQuantity", "1\ud800", "400100", "goods.goodsQuantity: must be valid Unicode"),
    ("goods.goodsDetail", "x" * 257, "400101", "goods.goodsDetail"),
    ("goods.goodsUnitAmount", {"currency": "USDT"}, "400100", "goods.goodsUnitAmount.amount"),
    ("goods.goodsUnitAmount", {"amount": "1"}, "400100", "goods.goodsUnitAmount.currency"),
    ("shipping.shippingName", {"firstName": "A"}, "400100", "shipping.shippingName.lastName"),
    ("shipping.shippingName", {"lastName": "B"}, "400100", "shipping.shippingName.firstName"),
    ("shipping.shippingAddress", {"city": "X"}, "400100", "shipping.shippingAddress.region"),
    ("shipping.shippingAddress", {"region": "XX"}, "400102", "shipping.shippingAddress.region"),
    ("shipping.shippingAddress", {"region": "us"}, "400102", "shipping.shippingAddress.region"),
    (
        "shipping.shippingAddress",
        {"region": "US", "shippingAddressType": "05"},
        "400102",
        "shippingAddressType",
    ),
    ("buyer.buyerName", {"firstName": "A"}, "400100", "buyer.buyerName.lastName"),
    ("buyer.buyerRegistrationTime", "yesterday", "400100", "buyer.buyerRegistrationTime"),
    ("buyer.buyerRegistrationTime", 1.5, "400100", "buyer.buyerRegistrationTime"),
    ("returnUrl", "ftp://example.com", "400102", "returnUrl"),
    ("returnUrl", "example.com/x", "400102", "returnUrl"),
    ("returnUrl", "https://example.com/?a=1&b=2", "400102", "returnUrl: only one"),
    ("cancelUrl", "https://example.com/?a=1&b=2", "400102", "cancelUrl"),
    ("returnUrl", "https://example.com/" + "x" * 240, "400101", "returnUrl"),
    ("webhookUrl", "mailto:x@example.com", "400102", "webhookUrl"),
    ("webhookUrl", "https://example.com/" + "x" * 240, "400101", "webhookUrl"),
    ("orderExpireTime", lambda now: now - 1, "400102", "orderExpireTime"),
    ("orderExpireTime", lambda now: now, "400102", "orderExpireTime"),
    ("orderExpireTime", lambda now: now + 15 * DAY + 1, "400102", "orderExpireTime"),
    ("orderExpireTime", "soon", "400100", "orderExpireTime"),
    ("supportPayCurrency", "BUSD,bnb", "400102", "supportPayCurrency"),
    ("supportPayCurrency", "BNB," * 300, "400101", "supportPayCurrency"),
    ("universalUrlAttach", "x" * 121, "400101", "universalUrlAttach"),
    ("passThroughInfo", "x" * 513, "400101", "passThroughInfo"),
    ("merchant.subMerchantId", "1" * 20, "400101", "merchant.subMerchantId"),
    ("merchant.subMerchantId", "12ab", "400101", "merchant.subMerchantId"),
    ("orderTags.ifProfitSharing", "yes", "400100", "orderTags.ifProfitSharing"),
    ("directDebitContract", {"merchantContractCode": "x"}, "400606", "directDebitContract"),
]

GOOD = [
    ("env.osType", "IOS"),
    ("env.terminalType", "APP"),
    ("env.terminalType", "OTHERS"),
    ("merchantTradeNo", "A" * 32),
    ("orderAmount", 25.17),
    ("orderAmount", 3),
    ("orderAmount", "0.00000001"),
    ("orderAmount", "12345678.12345678"),
    ("currency", "BNB"),
    ("currency", "FDUSD"),
    ("goods.goodsType", "01"),
    ("goods.goodsCategory", "A000"),
    ("goods.goodsName", "x" * 256),
    ("goods.goodsName", "Crème brûlée, 2 pots de 50 g (café)"),
    ("goods.goodsDetail", "x" * 256),
    ("goods.goodsQuantity", "2"),
    ("goods.goodsUnitAmount", {"currency": "USDT", "amount": 12.5}),
    ("shipping.shippingName", {"firstName": "Ada", "lastName": "Lovelace"}),
    ("shipping.shippingAddress", {"region": "HK", "shippingAddressType": "04"}),
    ("buyer.buyerRegistrationTime", 1_600_000_000_000),
    ("buyer.buyerEmail", "a@example.com"),
    ("returnUrl", "https://example.com/return?order=1"),
    ("cancelUrl", "http://example.com/cancel"),
    ("webhookUrl", "https://example.com/hook?a=1&b=2"),
    ("orderExpireTime", lambda now: now + 15 * DAY),
    ("orderExpireTime", lambda now: now + 1),
    ("supportPayCurrency", "BUSD,BNB"),
    ("universalUrlAttach", "countryCode=1&phone=1234567"),
    ("passThroughInfo", "x" * 512),
    ("merchant.subMerchantId", "1" * 19),
    ("orderTags.ifProfitSharing", True),
    ("unknownField", {"anything": [1, 2]}),
]


@pytest.mark.parametrize(
    ("field", "value", "code", "text"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_value_is_rejected_with_the_field_named(
    sbx: InProcess, field: str, value: Any, code: str, text: str
) -> None:
    payload = order_payload()
    set_field(field, value)(payload, sbx.clock.now)
    sbx.fail("/v2/order", payload, code, text)
    assert sbx.app.ctx.store.conn().execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


@pytest.mark.parametrize(("field", "value"), GOOD, ids=[f"{g[0]}-{i}" for i, g in enumerate(GOOD)])
def test_good_value_is_accepted(sbx: InProcess, field: str, value: Any) -> None:
    payload = order_payload()
    set_field(field, value)(payload, sbx.clock.now)
    data = sbx.ok("/v2/order", payload)
    assert data["prepayId"]


def test_mini_program_needs_app_id(sbx: InProcess) -> None:
    payload = order_payload(env={"terminalType": "MINI_PROGRAM"})
    sbx.fail("/v2/order", payload, "400100", "appId")
    sbx.ok("/v2/order", {**payload, "appId": "wx123"})


def test_exponent_json_number_is_refused(sbx: InProcess) -> None:
    raw = (
        '{"env":{"terminalType":"WEB"},"merchantTradeNo":"E1","orderAmount":1e2,'
        '"currency":"USDT","goods":{"goodsType":"02","goodsCategory":"Z000",'
        '"referenceGoodsId":"s","goodsName":"n"}}'
    )
    sbx.fail("/v2/order", None, "400100", "orderAmount", raw=raw)


def test_fiat_order_converts_at_the_fixed_rate(sbx: InProcess) -> None:
    payload = order_payload(fiatAmount=100, fiatCurrency="HKD")
    del payload["currency"], payload["orderAmount"]
    answer = sbx.call("/v2/order", payload)
    assert "errorMessage" not in answer  # the fiat sample of docs/binance-pay.md#create-order
    data = answer["data"]
    assert list(data)[:4] == ["currency", "totalFee", "fiatCurrency", "fiatAmount"]
    assert data["currency"] == "USDT"
    assert data["totalFee"] == "12.77377391"
    assert data["fiatAmount"] == "100"


@pytest.mark.parametrize(
    ("extra", "code", "text"),
    [
        ({"fiatCurrency": "hkd", "fiatAmount": "1"}, "400102", "fiatCurrency"),
        ({"fiatCurrency": "XYZ", "fiatAmount": "1"}, "400102", "fiatCurrency"),
        ({"fiatCurrency": "HKD"}, "400100", "fiatAmount"),
        ({"fiatCurrency": "HKD", "fiatAmount": "100", "currency": "BUSD"}, "400102", "currency"),
        (
            {"fiatCurrency": "HKD", "fiatAmount": "100", "currency": "USDT", "orderAmount": "10"},
            "400102",
            "orderAmount",
        ),
        ({}, "400100", "currency"),
    ],
)
def test_fiat_rules(sbx: InProcess, extra: dict[str, Any], code: str, text: str) -> None:
    payload = order_payload()
    del payload["currency"], payload["orderAmount"]
    payload.update(extra)
    sbx.fail("/v2/order", payload, code, text)


def test_fiat_and_matching_crypto_amount_is_accepted(sbx: InProcess) -> None:
    payload = order_payload(fiatCurrency="USD", fiatAmount="5", currency="USDT", orderAmount="5")
    assert sbx.ok("/v2/order", payload)["totalFee"] == "5"


@pytest.mark.parametrize(
    ("path", "payload", "code", "text"),
    [
        ("/v2/order/query", {}, "400100", "prepayId"),
        ("/v2/order/query", {"merchantTradeNo": "a-b"}, "400101", "merchantTradeNo"),
        ("/v2/order/query", {"prepayId": "1" * 20}, "400101", "prepayId"),
        ("/order/close", {"prepayId": None, "merchantTradeNo": None}, "400100", "prepayId"),
        ("/order/refund", {"prepayId": "1", "refundAmount": "1"}, "400100", "refundRequestId"),
        (
            "/order/refund",
            {"refundRequestId": "x" * 65, "prepayId": "1", "refundAmount": "1"},
            "400101",
            "refundRequestId",
        ),
        ("/order/refund", {"refundRequestId": "r1", "refundAmount": "1"}, "400100", "prepayId"),
        ("/order/refund", {"refundRequestId": "r1", "prepayId": "1"}, "400100", "refundAmount"),
        (
            "/order/refund",
            {
                "refundRequestId": "r1",
                "prepayId": "1",
                "refundAmount": "1",
                "refundReason": "x" * 257,
            },
            "400101",
            "refundReason",
        ),
        ("/order/refund/query", {}, "400100", "refundRequestId"),
        ("/shareinfo/accountId", {}, "400100", "requestId"),
        ("/shareinfo/accountId", {"requestId": "bad-id"}, "406301", "requestId"),
        ("/shareinfo/accountId", {"requestId": "a" * 33}, "406301", "requestId"),
        (
            "/shareinfo/accountId",
            {"requestId": "ok", "subMerchantId": "1" * 20},
            "400101",
            "subMerchantId",
        ),
        ("/shareinfo/accountId", {"requestId": "ok", "webhookUrl": "x"}, "400102", "webhookUrl"),
    ],
)
def test_other_endpoint_schemas(
    sbx: InProcess, path: str, payload: dict[str, Any], code: str, text: str
) -> None:
    sbx.fail(path, copy.deepcopy(payload), code, text)
