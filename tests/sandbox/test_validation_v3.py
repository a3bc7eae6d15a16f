"""Create Order v3 schema (docs/binance-pay-v3.md 3 and 6; sandbox/README.md "Create Order v3").

The v2 table of test_validation.py is replayed against /v3/order for every field the two versions
share, so a rule that drifts between them fails here; the v3-only fields have their own table.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import DELETE, InProcess, order_payload, order_v3_payload, set_field
from .test_validation import BAD, GOOD

ITEM = {"goodsType": "01", "goodsCategory": "D000", "referenceGoodsId": "w1", "goodsName": "Cone"}


def _item(**changes: Any) -> list[dict[str, Any]]:
    """goodsDetails with a good first item and ``ITEM`` changed as the second."""
    second = {**ITEM, **changes}
    return [order_payload()["goods"], {k: v for k, v in second.items() if v is not DELETE}]


SHARED_BAD = [row for row in BAD if not row[0].startswith("goods")]
SHARED_GOOD = [row for row in GOOD if not row[0].startswith("goods")]

V3_BAD = [
    ("description", DELETE, "400100", "description: must not be empty"),
    ("description", "", "400100", "description: must not be empty"),
    ("description", None, "400100", "description: must not be empty"),
    ("description", 12, "400100", "description: must be a string"),
    ("description", "x" * 257, "400101", "description: length must be at most 256"),
    ("goodsDetails", DELETE, "400100", "goodsDetails: must not be null"),
    ("goodsDetails", ITEM, "400100", "goodsDetails: must be a JSON array"),
    ("goodsDetails", [], "400100", "goodsDetails: must not be empty"),
    ("goodsDetails", [ITEM] * 101, "400101", "goodsDetails: at most 100 items"),
    ("goodsDetails", ["Cone"], "400100", "goodsDetails[0]: must be a JSON object"),
    ("goodsDetails", _item(goodsType="03"), "400102", "goodsDetails[1].goodsType"),
    ("goodsDetails", _item(goodsType=DELETE), "400100", "goodsDetails[1].goodsType"),
    ("goodsDetails", _item(goodsCategory="Y000"), "400102", "goodsDetails[1].goodsCategory"),
    ("goodsDetails", _item(referenceGoodsId=DELETE), "400100", "goodsDetails[1].referenceGoodsId"),
    ("goodsDetails", _item(goodsName=DELETE), "400100", "goodsDetails[1].goodsName"),
    ("goodsDetails", _item(goodsName="x" * 257), "400101", "goodsDetails[1].goodsName"),
    ("goodsDetails", _item(goodsName='A "B"'), "400103", "goodsDetails[1].goodsName: must not"),
    ("goodsDetails", _item(goodsName="Cone \U0001f366"), "400103", "goodsDetails[1].goodsName"),
    ("goodsDetails", _item(goodsDetail="x" * 257), "400101", "goodsDetails[1].goodsDetail"),
    ("goodsDetails", _item(goodsQuantity=[2]), "400100", "goodsDetails[1].goodsQuantity"),
    (
        "goodsDetails",
        _item(goodsUnitAmount={"currency": "USDT"}),
        "400100",
        "goodsDetails[1].goodsUnitAmount.amount",
    ),
    (
        "goodsDetails",
        _item(goodsUnitAmount={"currency": "USDT", "amount": "0"}),
        "400102",
        "goodsDetails[1].goodsUnitAmount.amount",
    ),
    ("qrCodeReferId", "ref-123", "400101", "qrCodeReferId"),
    ("qrCodeReferId", "1" * 20, "400101", "qrCodeReferId"),
    ("qrCodeReferId", 232103202548367360, "400100", "qrCodeReferId: must be a string"),
    ("voucherCode", "SPRING10", "400102", "voucherCode: no such voucher"),
    ("voucherCode", 10, "400100", "voucherCode: must be a string"),
]

V3_GOOD: list[tuple[str, Any]] = [
    ("description", "x" * 256),
    # No character rule is documented for description (docs/binance-pay-v3.md 6).
    ("description", 'Crème brûlée "Chef\\s" \U0001f366'),
    ("goodsDetails", [ITEM] * 100),
    ("goodsDetails", _item(goodsQuantity=3, goodsUnitAmount={"currency": "USDT", "amount": 1})),
    ("qrCodeReferId", "232103202548367360"),
    ("voucherCode", ""),  # empty counts as absent, as for every optional string
    ("goods", {"goodsType": "bogus"}),  # the v2 object is an unknown field in v3: ignored
]


def _count(sbx: InProcess) -> int:
    return sbx.app.ctx.store.conn().execute("SELECT COUNT(*) FROM orders").fetchone()[0]


def _apply(row: tuple[str, Any], now: int) -> dict[str, Any]:
    payload = order_v3_payload()
    value = row[1] if row[1] is DELETE else copy.deepcopy(row[1])
    set_field(row[0], value)(payload, now)
    return payload


@pytest.mark.parametrize(
    ("field", "value", "code", "text"),
    SHARED_BAD + V3_BAD,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(SHARED_BAD + V3_BAD)],
)
def test_bad_value_is_rejected_with_the_field_named(
    sbx: InProcess, field: str, value: Any, code: str, text: str
) -> None:
    sbx.fail("/v3/order", _apply((field, value), sbx.clock.now), code, text)
    assert _count(sbx) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    SHARED_GOOD + V3_GOOD,
    ids=[f"{g[0]}-{i}" for i, g in enumerate(SHARED_GOOD + V3_GOOD)],
)
def test_good_value_is_accepted(sbx: InProcess, field: str, value: Any) -> None:
    assert sbx.ok("/v3/order", _apply((field, value), sbx.clock.now))["prepayId"]
    assert _count(sbx) == 1


def test_a_v2_body_sent_to_v3_is_refused_for_its_missing_v3_fields(sbx: InProcess) -> None:
    sbx.fail("/v3/order", order_payload(), "400100", "description: must not be empty")
    sbx.fail("/v3/order", order_payload(description="d"), "400100", "goodsDetails")
    sbx.fail("/v2/order", order_v3_payload(), "400100", "goods: must not be null")
    assert _count(sbx) == 0


def test_mini_program_needs_app_id_in_v3_too(sbx: InProcess) -> None:
    payload = order_v3_payload(env={"terminalType": "MINI_PROGRAM"})
    sbx.fail("/v3/order", payload, "400100", "appId")
    sbx.ok("/v3/order", {**payload, "appId": "wx123"})


def _without_ids(data: dict[str, Any]) -> dict[str, Any]:
    varying = ("prepayId", "qrcodeLink", "qrContent", "checkoutUrl", "deeplink", "universalUrl")
    return {k: (v if k not in varying else "*") for k, v in data.items()}


@pytest.mark.parametrize(
    "amounts",
    [
        {"orderAmount": "25.17", "currency": "USDT"},
        {"orderAmount": None, "currency": None, "fiatAmount": 100, "fiatCurrency": "HKD"},
    ],
    ids=["crypto", "fiat"],
)
def test_answer_is_the_v2_answer(sbx: InProcess, amounts: dict[str, Any]) -> None:
    # docs/binance-pay-v3.md 5: same data fields, key order and errorMessage rule as v2.
    two = sbx.call("/v2/order", order_payload("SAME2", **amounts))
    three = sbx.call("/v3/order", order_v3_payload("SAME3", **amounts))
    assert {k: v for k, v in three.items() if k != "data"} == {
        k: v for k, v in two.items() if k != "data"
    }
    assert list(three["data"]) == list(two["data"])
    assert _without_ids(three["data"]) == _without_ids(two["data"])


def test_merchant_trade_no_is_unique_across_v2_and_v3(sbx: InProcess) -> None:
    sbx.ok("/v2/order", order_payload("UNIQ1"))
    sbx.fail("/v3/order", order_v3_payload("UNIQ1"), "400201", "duplicated")
    sbx.ok("/v3/order", order_v3_payload("UNIQ2"))
    sbx.fail("/v2/order", order_payload("UNIQ2"), "400201", "duplicated")
    assert _count(sbx) == 2


def test_channel_partner_needs_sub_merchant_id_on_v3_only(
    make_sbx: Callable[..., InProcess],
) -> None:
    # docs/binance-pay-v3.md 3.2 (changelog 2024-08: mandatory for channel partners on v3).
    cp = make_sbx(channel_partner=True)
    cp.fail("/v3/order", order_v3_payload("CP1"), "400100", "merchant.subMerchantId: required")
    cp.fail("/v3/order", order_v3_payload("CP1", merchant={}), "400100", "merchant.subMerchantId")
    assert _count(cp) == 0
    cp.ok("/v3/order", order_v3_payload("CP1", merchant={"subMerchantId": "10000012"}))
    cp.ok("/v2/order", order_payload("CP2"))  # the changelog names only the v3 endpoint
    # a schema error is still reported first
    bad = order_v3_payload("CP3", merchant={"subMerchantId": "abc"})
    cp.fail("/v3/order", bad, "400101", "merchant.subMerchantId: must be digits")
    assert _count(cp) == 2
