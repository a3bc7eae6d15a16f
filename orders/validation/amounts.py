"""Money amounts: Binance ``decimal(.8)`` parsed to ``Decimal`` without ever going through float.

Accepted input: a JSON number (``Decimal`` from a ``parse_float=Decimal`` parser, or ``int``) or a
numeric string (``"25.17"``, ``"1E+2"``). A ``float`` that slipped through is read via its
shortest repr, so binary artefacts show up as extra places (0.1 + 0.2 -> 0.30000000000000004,
17 places, refused) instead of being silently rounded.

Rules (docs/binance-pay.md#create-order: decimal(.8), minimum 0.00000001; the maximum is the
sandbox's, our stand-in for Binance, which refuses more: tests/contract):
- finite; at least ``AMOUNT_MIN``; at most ``AMOUNT_LIMIT`` (10^11, inclusive);
- at most ``MAX_DECIMAL_PLACES`` places, trailing zeros not counted (as Java's @Digits does);
- at most ``MAX_SIGNIFICANT_DIGITS`` digits (12 integer + 8 decimal digits: every amount up to
  ``AMOUNT_LIMIT`` fits DecimalField(20, 8) exactly);
- strings use the JSON number grammar: no leading "+", no leading zeros, no "1,50", no spaces.
The result is exact: input with 0..8 places and no positive exponent comes back unchanged;
``1E+2`` becomes ``100`` and ``1.500000000`` becomes ``1.50000000``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from paysvc.serializers import COMMON_MESSAGES

AMOUNT_MIN = Decimal("0.00000001")
# fiatAmount floor (paysvc's): Binance converts a fiat order to USDT at its own rate and refuses
# one that comes to less than AMOUNT_MIN. One cent of the weakest supported currency (VND, about
# 0.00004 USDT) is still 4E-7 USDT, so nothing at or above this floor can convert to too little.
FIAT_AMOUNT_MIN = Decimal("0.01")
AMOUNT_LIMIT = Decimal(10) ** 11  # the largest amount accepted (inclusive)
MAX_DECIMAL_PLACES = 8
MAX_SIGNIFICANT_DIGITS = 20
_MAX_TEXT_LENGTH = 64

_JSON_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


class AmountError(ValueError):
    """An amount broke a rule; ``str(exc)`` is the message for the merchant."""


def parse_amount(value: Any) -> Decimal:
    """Return ``value`` as an exact ``Decimal`` that satisfies every amount rule above.

    Raises ``AmountError`` naming the rule that failed.
    """
    number = _to_decimal(value)
    if not number.is_finite():
        raise AmountError("must be a finite number (NaN and Infinity are refused)")
    if number < AMOUNT_MIN:
        raise AmountError(f"must be at least {AMOUNT_MIN:f} (Binance minimum)")
    if number > AMOUNT_LIMIT:
        raise AmountError(f"must be at most {AMOUNT_LIMIT:f} (Binance maximum)")
    _, digit_tuple, raw_exponent = number.as_tuple()
    digits, exponent = list(digit_tuple), int(raw_exponent)  # finite: the exponent is an int
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:  # trailing zeros
        digits.pop()
        exponent += 1
    if -exponent > MAX_DECIMAL_PLACES:
        raise AmountError(
            f"must have at most {MAX_DECIMAL_PLACES} decimal places (Binance decimal(.8))"
        )
    if len(digits) + max(exponent, 0) > MAX_SIGNIFICANT_DIGITS:
        raise AmountError(f"must have at most {MAX_SIGNIFICANT_DIGITS} significant digits")
    return _canonical(number)


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise AmountError("must be a number or a decimal string, not a boolean")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AmountError("must be a finite number (NaN and Infinity are refused)")
        return Decimal(repr(value))  # shortest repr: keeps binary artefacts visible
    if isinstance(value, str):
        return Decimal(_check_amount_text(value))
    raise AmountError('must be a number or a decimal string, e.g. "25.17"')


def _check_amount_text(text: str) -> str:
    if len(text) > _MAX_TEXT_LENGTH:
        raise AmountError("is too long to be an amount")
    if _JSON_NUMBER_RE.fullmatch(text):
        return text
    stripped = text.strip()
    if stripped.lstrip("+-").lower() in ("nan", "snan", "inf", "infinity"):
        raise AmountError("must be a finite number (NaN and Infinity are refused)")
    if stripped != text or " " in text:
        raise AmountError("must not contain spaces")
    if text.startswith("+"):
        raise AmountError("must not have a leading '+'")
    if "," in text:
        raise AmountError("must use '.' as the decimal separator, without thousands separators")
    if re.match(r"-?0[0-9]", text):
        raise AmountError("must not have leading zeros")
    raise AmountError('must be a decimal number such as "25.17"')


def _canonical(number: Decimal) -> Decimal:
    """Same value, written with 0..8 places: expand positive exponents, drop surplus zeros."""
    sign, digits, raw_exponent = number.as_tuple()
    exponent = int(raw_exponent)
    if exponent > 0:
        return Decimal((sign, (*digits, *([0] * exponent)), 0))
    if exponent < -MAX_DECIMAL_PLACES:
        drop = -MAX_DECIMAL_PLACES - exponent  # all zeros: parse_amount checked
        return Decimal((sign, digits[:-drop], -MAX_DECIMAL_PLACES))
    return number


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "string",
                "pattern": r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,8})?$",  # at most 10^11
                "example": "25.17",
            },
            {"type": "number", "minimum": 0.00000001, "maximum": 100000000000},
        ],
        "description": "decimal(.8): at least 0.00000001, at most 100000000000, at most 8 "
        "decimal places",
    }
)
class AmountField(serializers.Field):
    """A Binance ``decimal(.8)`` amount; ``validated_data`` holds an exact ``Decimal``."""

    default_error_messages = COMMON_MESSAGES

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_amount(data)
        except (AmountError, InvalidOperation) as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Decimal) -> str:
        return format(value, "f")
