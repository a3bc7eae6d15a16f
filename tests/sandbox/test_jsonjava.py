"""Java BigDecimal.toString() rendering and the webhook body shape
(docs/binance-pay.md#webhook-envelope)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.jsonjava import amount8, dumps_java, java_decimal
from sandbox.notify import webhook_body

from .conftest import FIXTURES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3.58000000", "3.58000000"),
        ("0.03869345", "0.03869345"),
        ("92.52211938", "92.52211938"),
        ("0.00000010", "1.0E-7"),  # real 2023 capture: "totalFee":1.0E-7
        ("0.00000001", "1E-8"),
        ("0.00000100", "0.00000100"),  # adjusted exponent -6: still plain
        ("0.00000000", "0E-8"),
        ("0", "0"),
        ("1", "1"),
        ("-0.5", "-0.5"),
        ("-0", "0"),
        ("1E+3", "1E+3"),
        ("1.23E+5", "1.23E+5"),
        ("12345678901.12345678", "12345678901.12345678"),
    ],
)
def test_java_decimal(value: str, expected: str) -> None:
    assert java_decimal(Decimal(value)) == expected


def test_amount8_examples() -> None:
    assert java_decimal(amount8(Decimal("3.58"))) == "3.58000000"
    assert java_decimal(amount8(Decimal("1E-7"))) == "1.0E-7"
    assert java_decimal(Decimal(0)) == "0"  # commission 0


def test_non_finite_is_refused() -> None:
    with pytest.raises(ValueError):
        java_decimal(Decimal("NaN"))


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=0, max_value=10**11))
def test_java_text_parses_back_to_the_same_value(value: Decimal) -> None:
    text = java_decimal(amount8(value))
    assert Decimal(text) == value
    assert " " not in text


def test_webhook_body_matches_the_real_capture() -> None:
    data = {
        "merchantTradeNo": "870687",
        "productType": "02",
        "productName": "Amazon 25 TRY",
        "transactTime": 1679876794282,
        "tradeType": "WEB",
        "totalFee": amount8(Decimal("3.58")),
        "currency": "USDT",
        "transactionId": "M_P_219129203579346945",
        "openUserId": "f36fae12c2b40cdbc9ee6ed5402638e0",
        "commission": Decimal(0),
        "paymentInfo": {
            "payerId": 158292251,
            "payMethod": "spot",
            "paymentInstructions": [
                {
                    "currency": "LTC",
                    "amount": Decimal("0.03869345"),
                    "price": Decimal("92.52211938"),
                }
            ],
            "channel": "DEFAULT",
        },
    }
    vector = json.loads((FIXTURES / "real-pay-success-webhook.json").read_text())
    body = webhook_body("PAY", "219129167241265152", "PAY_SUCCESS", data)
    assert body == vector["raw_body"]


def test_dumps_java_keeps_order_and_utf8() -> None:
    assert dumps_java({"b": 1, "a": ["é", None, True]}) == '{"b":1,"a":["é",null,true]}'
