"""CreateOrderV3Request (docs/binance-pay-v3.md sections 3-4): wire layout, round trip, and the
input it refuses, each naming the field."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from binance_pay import (
    Buyer,
    CreateOrderRequest,
    CreateOrderV3Request,
    Env,
    Goods,
    GoodsUnitAmount,
    PersonName,
    Shipping,
    ShippingAddress,
    encode_body,
)
from binance_pay._json import strict_loads

ICE_CREAM = Goods("02", "Z000", "sku001", "Ice Cream")
CONE = Goods("01", "D000", "sku002", "Cone", goods_detail="Waffle cone")


def v3(**overrides: Any) -> CreateOrderV3Request:
    fields: dict[str, Any] = {
        "merchant_trade_no": "ORD20231114001",
        "env": Env("WEB"),
        "description": "Ice cream order",
        "goods_details": (ICE_CREAM,),
        "order_amount": Decimal("25.17"),
        "currency": "USDT",
    }
    fields.update(overrides)
    return CreateOrderV3Request(**fields)


def test_minimal_body_bytes_and_key_order() -> None:
    # given the v2 worked-example order expressed in v3
    body = encode_body(v3().to_dict())
    # then the v2 head, then description and the goods list in place of goods
    assert body == (
        b'{"env":{"terminalType":"WEB"},"merchantTradeNo":"ORD20231114001",'
        b'"orderAmount":"25.17","currency":"USDT","description":"Ice cream order",'
        b'"goodsDetails":[{"goodsType":"02","goodsCategory":"Z000","referenceGoodsId":"sku001",'
        b'"goodsName":"Ice Cream"}]}'
    )


def test_same_order_as_v2_differs_only_in_goods_and_description() -> None:
    v2 = CreateOrderRequest(
        merchant_trade_no="ORD20231114001",
        env=Env("WEB"),
        goods=ICE_CREAM,
        order_amount=Decimal("25.17"),
        currency="USDT",
        sub_merchant_id="42",
        order_tags_if_profit_sharing=True,
    ).to_dict()
    three = v3(sub_merchant_id="42", order_tags_if_profit_sharing=True).to_dict()
    assert three.pop("goodsDetails") == [v2.pop("goods")]
    assert three.pop("description") == "Ice cream order"
    assert three == v2


def test_from_v2_keeps_every_field_and_wraps_goods() -> None:
    v2 = CreateOrderRequest(
        merchant_trade_no="ORD20231114001",
        env=Env("APP", os_type="ANDROID"),
        goods=CONE,
        fiat_amount=Decimal("100"),
        fiat_currency="HKD",
        buyer=Buyer(buyer_email="ada@example.com"),
        sub_merchant_id="42",
        return_url="https://shop.example/ok",
        order_expire_time=1700003600000,
        pass_through_info="pt",
        webhook_url="https://paysvc.example/webhooks/binance-pay",
        order_tags_if_profit_sharing=True,
    )
    three = CreateOrderV3Request.from_v2(v2, description="Cone order", voucher_code="V1")
    data, v2_data = three.to_dict(), v2.to_dict()
    assert data.pop("goodsDetails") == [v2_data.pop("goods")]
    assert (data.pop("description"), data.pop("voucherCode")) == ("Cone order", "V1")
    assert data == v2_data
    with pytest.raises(ValueError, match="description"):
        CreateOrderV3Request.from_v2(v2, description="")


def full_request() -> CreateOrderV3Request:
    return v3(
        env=Env("APP", os_type="IOS", order_client_ip="203.0.113.7", cookie_id="c1"),
        goods_details=[
            Goods(
                "01",
                "D000",
                "7876763A3B",
                "Ice Cream",
                goods_detail="Greentea ice cream cone",
                goods_unit_amount=GoodsUnitAmount("USDT", Decimal("12.5")),
                goods_quantity="2",
            ),
            CONE,
        ],
        shipping=Shipping(
            shipping_name=PersonName("Ada", "Lovelace"),
            shipping_address=ShippingAddress("GB", city="London"),
        ),
        buyer=Buyer(buyer_email="ada@example.com", buyer_registration_time=1700000000000),
        sub_merchant_id="42",
        return_url="https://shop.example/ok?o=1",
        cancel_url="https://shop.example/cancel",
        order_expire_time=1700003600000,
        support_pay_currency="USDT,BNB",
        app_id="wx1",
        universal_url_attach="countryCode=1",
        pass_through_info="pt",
        webhook_url="https://paysvc.example/webhooks/binance-pay",
        order_tags_if_profit_sharing=False,
        qr_code_refer_id="232103202548367360",
        voucher_code="SPRING10",
    )


def test_full_request_round_trips_through_dict_and_json() -> None:
    request = full_request()
    data = request.to_dict()
    assert [item["goodsName"] for item in data["goodsDetails"]] == ["Ice Cream", "Cone"]
    assert data["goodsDetails"][0]["goodsUnitAmount"] == {"currency": "USDT", "amount": "12.5"}
    assert (data["qrCodeReferId"], data["voucherCode"]) == ("232103202548367360", "SPRING10")
    assert data["merchant"] == {"subMerchantId": "42"}
    assert list(data)[-2:] == ["qrCodeReferId", "voucherCode"]
    assert CreateOrderV3Request.from_dict(data) == request
    assert CreateOrderV3Request.from_dict(strict_loads(encode_body(data))) == request


def test_goods_list_is_stored_as_a_tuple_and_the_model_is_hashable() -> None:
    request = v3(goods_details=[ICE_CREAM, CONE])
    assert request.goods_details == (ICE_CREAM, CONE)
    assert hash(request) == hash(v3(goods_details=(ICE_CREAM, CONE)))


def test_from_dict_accepts_json_number_amounts_and_fiat() -> None:
    sample = strict_loads(
        b'{"env":{"terminalType":"APP"},"merchantTradeNo":"9825382937292","fiatAmount":100,'
        b'"fiatCurrency":"HKD","description":"Ice cream","goodsDetails":[{"goodsType":"01",'
        b'"goodsCategory":"D000","referenceGoodsId":"7876763A3B","goodsName":"Ice Cream",'
        b'"goodsUnitAmount":{"currency":"HKD","amount":100}}]}'
    )
    request = CreateOrderV3Request.from_dict(sample)
    assert (request.fiat_amount, request.fiat_currency) == (Decimal(100), "HKD")
    assert request.goods_details[0].goods_unit_amount == GoodsUnitAmount("HKD", Decimal(100))


def _with(path: str, value: Any) -> dict[str, Any]:
    data = v3(goods_details=(ICE_CREAM, CONE)).to_dict()
    *parents, leaf = path.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with("description", ...), "description: required"),
        (_with("description", ""), "description: required non-empty"),
        (_with("description", 7), "description: expected str"),
        (_with("goodsDetails", ...), "goodsDetails: required"),
        (_with("goodsDetails", []), "goodsDetails: at least one"),
        (_with("goodsDetails", ICE_CREAM.to_dict()), "goodsDetails: expected an array"),
        (_with("goodsDetails", ["x"]), r"goodsDetails\[0\]: expected an object"),
        (_with("goodsDetails.1.goodsName", ...), r"goodsDetails\[1\]\.goodsName: required"),
        (_with("goodsDetails.1.goodsName", ""), r"goodsDetails\[1\]\.goodsName: required"),
        (_with("goodsDetails.0.goodsType", 2), r"goodsDetails\[0\]\.goodsType: expected str"),
        (_with("goodsDetails.0.extra", "x"), r"goodsDetails\[0\]\.extra"),
        (
            _with("goodsDetails.0.goodsUnitAmount", {"currency": "USDT", "amount": "0"}),
            r"goodsDetails\[0\]\.goodsUnitAmount\.amount: must be a positive",
        ),
        (_with("goods", ICE_CREAM.to_dict()), "unknown field.*goods"),  # v2 shape in a v3 body
        (_with("orderAmount", 25.17), "orderAmount"),
        (_with("orderAmount", "0.000000001"), "orderAmount"),
        (_with("currency", ...), "orderAmount and currency"),
        (_with("merchantTradeNo", "dtsg-123"), "merchantTradeNo"),
        (_with("qrCodeReferId", 232103202548367360), "qrCodeReferId: expected str"),
        (_with("qrCodeReferId", ""), "qrCodeReferId: required non-empty"),
        (_with("voucherCode", ""), "voucherCode: required non-empty"),
        (_with("merchant", {"subMerchantId": "1", "x": 1}), r"merchant\.x"),
        ([], "CreateOrderV3Request: expected an object"),
    ],
)
def test_from_dict_rejects_bad_input_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CreateOrderV3Request.from_dict(data)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"goods_details": ()}, ValueError),
        ({"goods_details": ICE_CREAM}, TypeError),
        ({"goods_details": (ICE_CREAM, ICE_CREAM.to_dict())}, TypeError),
        ({"description": None}, ValueError),
        ({"order_amount": 25.17}, TypeError),
        ({"order_amount": None, "currency": None}, ValueError),
        ({"env": "WEB"}, TypeError),
    ],
)
def test_constructor_checks(overrides: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        v3(**overrides)


def test_fields_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        CreateOrderV3Request("ORD1", Env("WEB"), "d", (ICE_CREAM,))  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        v3().description = "changed"  # type: ignore[misc]
