"""Request models (docs/binance-pay.md#create-order) and typed results
(docs/binance-pay.md#create-order, docs/binance-pay.md#query-order, docs/binance-pay.md#close-order,
docs/binance-pay.md#refund-order, docs/binance-pay.md#query-refund,
docs/binance-pay.md#query-certificates, docs/binance-pay.md#share-account-id)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from binance_pay import (
    Buyer,
    Certificate,
    CreateOrderRequest,
    Env,
    Goods,
    GoodsUnitAmount,
    OrderResult,
    PersonName,
    QueryOrderResult,
    RefundQueryResult,
    RefundResult,
    ShareAccountResult,
    Shipping,
    ShippingAddress,
    TransportError,
    encode_body,
    sign_payload,
)
from binance_pay._json import strict_loads

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT / "tests" / "fixtures" / "vectors"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "binance_pay"


def envelope_data(name: str) -> Any:
    return strict_loads((FIXTURES / name).read_bytes())["data"]


def ice_cream(**overrides: Any) -> CreateOrderRequest:
    fields: dict[str, Any] = {
        "merchant_trade_no": "ORD20231114001",
        "env": Env("WEB"),
        "goods": Goods("02", "Z000", "sku001", "Ice Cream"),
        "order_amount": Decimal("25.17"),
        "currency": "USDT",
    }
    fields.update(overrides)
    return CreateOrderRequest(**fields)


# -- CreateOrderRequest ----------------------------------------------------------------------


def test_create_order_body_reproduces_the_signing_vector() -> None:
    # given the worked example of docs/binance-pay.md#signing-example as a model
    vectors = json.loads((VECTORS / "request-signing.json").read_text(encoding="utf-8"))
    compact = vectors["cases"][0]
    # when encoded / then byte-identical to the vector body, hence the same signature
    body = encode_body(ice_cream().to_dict())
    assert body == compact["body"].encode()
    signature = sign_payload(vectors["apiSecret"], vectors["timestamp"], vectors["nonce"], body)
    assert signature == compact["signature"]


def test_fiat_order_and_nested_wrappers() -> None:
    request = ice_cream(
        order_amount=None,
        currency=None,
        fiat_amount=Decimal("100"),
        fiat_currency="HKD",
        sub_merchant_id="123456",
        order_tags_if_profit_sharing=True,
    )
    assert request.to_dict() == {
        "env": {"terminalType": "WEB"},
        "merchantTradeNo": "ORD20231114001",
        "fiatAmount": "100",
        "fiatCurrency": "HKD",
        "goods": {
            "goodsType": "02",
            "goodsCategory": "Z000",
            "referenceGoodsId": "sku001",
            "goodsName": "Ice Cream",
        },
        "merchant": {"subMerchantId": "123456"},
        "orderTags": {"ifProfitSharing": True},
    }


def full_request() -> CreateOrderRequest:
    return ice_cream(
        env=Env("APP", os_type="IOS", order_client_ip="203.0.113.7", cookie_id="c1"),
        goods=Goods(
            "01",
            "D000",
            "7876763A3B",
            "Ice Cream",
            goods_detail="Greentea ice cream cone",
            goods_unit_amount=GoodsUnitAmount("USDT", Decimal("1E-8")),
            goods_quantity="2",
        ),
        shipping=Shipping(
            shipping_name=PersonName("Ada", "Lovelace", middle_name="K"),
            shipping_address=ShippingAddress("GB", city="London", zip_code="N1"),
            shipping_phone_no="+44",
        ),
        buyer=Buyer(
            reference_buyer_id="b1",
            buyer_name=PersonName("Ada", "Lovelace"),
            buyer_email="ada@example.com",
            buyer_registration_time=1700000000000,
        ),
        sub_merchant_id="42",
        return_url="https://shop.example/ok?o=1",
        cancel_url="https://shop.example/cancel",
        order_expire_time=1700003600000,
        support_pay_currency="BUSD,BNB",
        pass_through_info="pt",
        webhook_url="https://paysvc.example/webhooks/binance-pay",
        order_tags_if_profit_sharing=False,
    )


def test_full_request_round_trips_through_dict_and_json() -> None:
    request = full_request()
    data = request.to_dict()
    assert data["goods"]["goodsUnitAmount"] == {"currency": "USDT", "amount": "0.00000001"}
    assert data["shipping"]["shippingName"] == {
        "firstName": "Ada",
        "middleName": "K",
        "lastName": "Lovelace",
    }
    assert data["buyer"]["buyerRegistrationTime"] == 1700000000000
    assert data["orderTags"] == {"ifProfitSharing": False}
    assert CreateOrderRequest.from_dict(data) == request
    assert CreateOrderRequest.from_dict(strict_loads(encode_body(data))) == request


def test_from_dict_accepts_the_doc_sample_with_json_number_amounts() -> None:
    # docs/binance-pay.md#create-order: doc samples send orderAmount as a JSON number (25.17) and
    # fiatAmount 100
    sample = strict_loads(
        b'{"env":{"terminalType":"APP"},"orderTags":{"ifProfitSharing":true},'
        b'"merchantTradeNo":"9825382937292","orderAmount":25.17,"currency":"USDT",'
        b'"goods":{"goodsType":"01","goodsCategory":"D000","referenceGoodsId":"7876763A3B",'
        b'"goodsName":"Ice Cream","goodsDetail":"Greentea ice cream cone"}}'
    )
    request = CreateOrderRequest.from_dict(sample)
    assert request.order_amount == Decimal("25.17")
    assert request.order_tags_if_profit_sharing is True
    fiat = dict(sample, fiatAmount=100, fiatCurrency="HKD")
    del fiat["orderAmount"], fiat["currency"]
    assert CreateOrderRequest.from_dict(fiat).fiat_amount == Decimal(100)


def _sample() -> dict[str, Any]:
    return ice_cream().to_dict()


def _with(path: str, value: Any) -> dict[str, Any]:
    data = _sample()
    *parents, leaf = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with("orderAmount", 25.17), "orderAmount"),
        (_with("orderAmount", "1,50"), "orderAmount"),
        (_with("orderAmount", "NaN"), "orderAmount"),
        (_with("orderAmount", "0"), "orderAmount"),
        (_with("orderAmount", "-1"), "orderAmount"),
        (_with("orderAmount", "0.000000001"), "orderAmount"),
        (_with("orderAmount", ...), "orderAmount and currency"),
        (_with("currency", ...), "orderAmount and currency"),
        (_with("merchantTradeNo", "dtsg-123"), "merchantTradeNo"),
        (_with("merchantTradeNo", "x" * 33), "merchantTradeNo"),
        (_with("merchantTradeNo", ...), "merchantTradeNo"),
        (_with("goods.goodsName", ...), "goods.goodsName"),
        (_with("goods.goodsName", ""), "goods.goodsName"),
        (_with("goods.goodsName", 5), "goods.goodsName"),
        (_with("goods.extra", "x"), "goods.extra"),
        (
            _with("goods.goodsUnitAmount", {"currency": "USDT", "amount": "0"}),
            "goods.goodsUnitAmount.amount: must be a positive",
        ),
        (_with("env", {"terminalType": ""}), "env.terminalType: required non-empty"),
        (_with("status", "PAID"), "status"),
        (_with("env", "WEB"), "env"),
        (_with("orderExpireTime", True), "orderExpireTime"),
        (_with("merchant", {"subMerchantId": "1", "x": 1}), "merchant.x"),
        (_with("orderTags", {"ifProfitSharing": "yes"}), "orderTags"),
        ([], "expected an object"),
    ],
)
def test_from_dict_rejects_bad_input_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        CreateOrderRequest.from_dict(data)


def test_neither_currency_nor_fiat_is_rejected() -> None:
    with pytest.raises(ValueError, match="currency or fiatCurrency"):
        ice_cream(order_amount=None, currency=None)


def test_constructor_refuses_float_amounts() -> None:
    with pytest.raises(TypeError, match="orderAmount"):
        ice_cream(order_amount=25.17)


def test_models_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ice_cream().currency = "BUSD"  # type: ignore[misc]


# -- results -----------------------------------------------------------------------------------


def test_order_result_crypto_sample() -> None:
    result = OrderResult.from_dict(envelope_data("create_order_crypto.json"))
    assert result.prepay_id == "29383937493038367292"
    assert result.terminal_type == "APP"
    assert result.expire_time == 121123232223
    assert result.checkout_url == "https://pay.binance.com/checkout/dplk12121112b"
    assert result.total_fee == Decimal("25.17")
    assert (result.fiat_currency, result.fiat_amount) == (None, None)
    assert result.raw["qrContent"] == result.qr_content


def test_order_result_fiat_sample() -> None:
    result = OrderResult.from_dict(envelope_data("create_order_fiat.json"))
    assert (result.currency, result.total_fee) == ("USDT", Decimal("12.77377391"))
    assert (result.fiat_currency, result.fiat_amount) == ("HKD", Decimal("100"))


def test_query_order_sample() -> None:
    result = QueryOrderResult.from_dict(envelope_data("query_order.json"))
    assert result.merchant_id == 98729382672
    assert result.status == "PAID"
    assert result.order_amount == Decimal("10.88")
    assert result.transact_time == 1425744000123
    assert result.create_time == 1425744000000
    assert (result.open_user_id, result.commission, result.payment_info) == ("", None, None)


def test_refund_and_refund_query_samples() -> None:
    refund = RefundResult.from_dict(envelope_data("refund.json"))
    assert refund.refund_id == "244812371292053504"  # JSON number kept exactly, as a string
    assert refund.refund_amount == Decimal("5.00")
    assert refund.remaining_attempts == 8
    assert refund.duplicate_request is False
    query = RefundQueryResult.from_dict(envelope_data("refund_query.json"))
    assert query.refund_status == "REFUND_SUCCESS"
    assert query.refunded_amount == Decimal("10.88")
    assert query.refund_commission == Decimal("0")
    assert query.duplicate_request is None


def test_share_account_sample() -> None:
    result = ShareAccountResult.from_dict(envelope_data("share_account.json"))
    assert result.merchant_id == 352520168
    assert result.id == "219014596974616576"
    assert result.expire_time == 1680675385835


def test_certificate_serial_check() -> None:
    vector = json.loads((VECTORS / "real-pay-success-webhook.json").read_text(encoding="utf-8"))
    certificate = Certificate.from_dict(vector["certificate"])
    assert certificate.serial_matches_public_key
    assert not dataclasses.replace(certificate, cert_serial="0" * 32).serial_matches_public_key


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (OrderResult, "create_order_crypto.json"),
        (QueryOrderResult, "query_order.json"),
        (RefundResult, "refund.json"),
        (RefundQueryResult, "refund_query.json"),
        (ShareAccountResult, "share_account.json"),
    ],
)
def test_results_tolerate_unknown_fields_and_keep_raw(cls: Any, name: str) -> None:
    data = dict(envelope_data(name), brandNewField={"nested": [1, 2]}, anotherOne=None)
    result = cls.from_dict(data)
    assert result.raw == data
    assert "brandNewField" not in repr(result)
    assert hash(result) == hash(cls.from_dict(envelope_data(name)))  # raw is not hashed


@pytest.mark.parametrize(
    ("cls", "name", "key", "value", "message"),
    [
        (OrderResult, "create_order_crypto.json", "prepayId", ..., "missing prepayId"),
        (OrderResult, "create_order_crypto.json", "totalFee", None, "missing totalFee"),
        (OrderResult, "create_order_crypto.json", "totalFee", "abc", "invalid totalFee"),
        (OrderResult, "create_order_crypto.json", "expireTime", "soon", "invalid expireTime"),
        (OrderResult, "create_order_crypto.json", "checkoutUrl", ..., "missing checkoutUrl"),
        (QueryOrderResult, "query_order.json", "status", ..., "missing status"),
        (QueryOrderResult, "query_order.json", "orderAmount", 10.88, "invalid orderAmount"),
        (RefundResult, "refund.json", "duplicateRequest", "maybe", "invalid duplicateRequest"),
        (RefundResult, "refund.json", "remainingAttempts", True, "invalid remainingAttempts"),
        (RefundQueryResult, "refund_query.json", "refundStatus", ..., "missing refundStatus"),
        (ShareAccountResult, "share_account.json", "merchantId", ..., "missing merchantId"),
    ],
)
def test_missing_or_mistyped_required_fields_mean_outcome_unknown(
    cls: Any, name: str, key: str, value: Any, message: str
) -> None:
    data = dict(envelope_data(name))
    if value is ...:
        del data[key]
    else:
        data[key] = value
    with pytest.raises(TransportError, match=f"malformed response: {message}"):
        cls.from_dict(data)


@pytest.mark.parametrize("data", [None, [], "x", 1])
def test_non_object_data_is_malformed(data: Any) -> None:
    with pytest.raises(TransportError, match="malformed response"):
        OrderResult.from_dict(data)


def test_optional_links_may_be_absent() -> None:
    data = dict(envelope_data("create_order_crypto.json"))
    for key in ("qrcodeLink", "qrContent", "deeplink", "universalUrl", "terminalType"):
        del data[key]
    result = OrderResult.from_dict(data)
    assert (result.qrcode_link, result.deeplink, result.universal_url) == (None, None, None)
