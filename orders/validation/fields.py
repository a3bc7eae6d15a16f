"""Scalar fields: codes from fixed lists, strict booleans, IPs, quantities and epoch-ms times.

All of them take JSON values as they are: no "true" for true, no 1 for "01", no float for an
integer, so that what we send to Binance is exactly what the merchant meant.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from paysvc import clock
from paysvc.serializers import COMMON_MESSAGES, json_type

# An epoch-ms value below this is 1973-03-03 as milliseconds but year 5138 as seconds, and far
# beyond any duration Binance takes: such a value was meant as seconds (or as a duration).
EPOCH_MS_FLOOR = 100_000_000_000
ORDER_EXPIRE_MIN_AHEAD_MS = 60 * 1000  # paysvc: leave the buyer at least a minute
# docs/binance-pay.md#create-order: the maximum is 15 days.
ORDER_EXPIRE_MAX_AHEAD_MS = 15 * 24 * 3600 * 1000
CLOCK_SKEW_MS = 60 * 1000  # merchant clocks may run a little ahead of ours
MAX_GOODS_QUANTITY_DIGITS = 9  # paysvc's bound: 1 .. 999999999


class _StrictField(serializers.Field):
    default_error_messages = COMMON_MESSAGES


def _type_error(expected: str, data: Any) -> serializers.ValidationError:
    return serializers.ValidationError(f"must be {expected}, not {json_type(data)}")


class CodeField(serializers.ChoiceField):
    """A string from a fixed list of codes, matched exactly (codes are case-sensitive).

    ``rule`` is the message for an unknown code. A code from ``refused`` (e.g. a fiat code where
    crypto belongs) gets ``refused_message``; a known code in the wrong case gets "must be upper
    case".
    """

    default_error_messages = COMMON_MESSAGES

    def __init__(
        self,
        codes: Iterable[str],
        *,
        rule: str,
        refused: Iterable[str] = (),
        refused_message: str = "",
        **kwargs: Any,
    ) -> None:
        self.codes = frozenset(codes)
        self.rule = rule
        self.refused = frozenset(refused)
        self.refused_message = refused_message
        super().__init__(choices=sorted(self.codes), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise _type_error("a string", data)
        if data in self.codes:
            return data
        if data.upper() in self.refused:
            raise serializers.ValidationError(self.refused_message)
        if data.upper() in self.codes:
            raise serializers.ValidationError(f'must be upper case ("{data.upper()}")')
        raise serializers.ValidationError(self.rule)

    def to_representation(self, value: str) -> str:
        return value


def one_of(codes: Iterable[str], what: str = "") -> str:
    """Message "must be one of A, B, C" (+ " (what)")."""
    suffix = f" ({what})" if what else ""
    return f"must be one of {', '.join(codes)}{suffix}"


@extend_schema_field({"type": "boolean"})
class StrictBooleanField(_StrictField):
    """JSON true or false only (DRF's BooleanField would also take "yes", 1, "on")."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            raise _type_error("true or false", data)
        return data

    def to_representation(self, value: bool) -> bool:
        return value


@extend_schema_field({"type": "string", "example": "203.0.113.7"})
class IPAddressField(_StrictField):
    """An IPv4 or IPv6 address (any address: it describes the buyer's device, we never call it).

    Returned in canonical form (``::1``, ``192.0.2.1``); zone ids and leading zeros refused.
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise _type_error("a string", data)
        try:
            if "%" in data:
                raise ValueError(data)
            return str(ipaddress.ip_address(data.strip()))
        except ValueError:
            raise serializers.ValidationError("must be a valid IPv4 or IPv6 address") from None

    def to_representation(self, value: str) -> str:
        return value


_QUANTITY_RE = re.compile(rf"[1-9][0-9]{{0,{MAX_GOODS_QUANTITY_DIGITS - 1}}}", re.ASCII)


@extend_schema_field({"type": "string", "pattern": _QUANTITY_RE.pattern, "example": "1"})
class QuantityField(_StrictField):
    """goodsQuantity: Binance types it as a string; a whole number given as int is converted."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        if not isinstance(data, str):
            raise _type_error("a whole number or a string of digits", data)
        if not _QUANTITY_RE.fullmatch(data):
            raise serializers.ValidationError(
                f"must be a whole number from 1 to {10**MAX_GOODS_QUANTITY_DIGITS - 1}, "
                'as digits (e.g. "2")'
            )
        return data

    def to_representation(self, value: str) -> str:
        return value


@extend_schema_field({"type": "integer", "format": "int64"})
class EpochMillisField(_StrictField):
    """An absolute time as a JSON integer of epoch milliseconds (Binance's unit)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise _type_error("an integer number of epoch milliseconds", data)
        if data < EPOCH_MS_FLOOR:
            raise serializers.ValidationError(
                "must be an absolute time in epoch milliseconds; this value looks like "
                "seconds or a duration"
            )
        return self.check_window(data, clock.now_ms())

    def check_window(self, value: int, now: int) -> int:
        return value

    def to_representation(self, value: int) -> int:
        return value


class OrderExpireTimeField(EpochMillisField):
    """orderExpireTime: absolute epoch ms in (now + 60 s, now + 15 days]
    (docs/binance-pay.md#create-order)."""

    def check_window(self, value: int, now: int) -> int:
        if value <= now + ORDER_EXPIRE_MIN_AHEAD_MS:
            raise serializers.ValidationError(
                "must be more than 60 seconds in the future (epoch milliseconds)"
            )
        if value > now + ORDER_EXPIRE_MAX_AHEAD_MS:
            raise serializers.ValidationError(
                "must be at most 15 days in the future (Binance maximum orderExpireTime)"
            )
        return value


class PastTimeField(EpochMillisField):
    """A time that has happened (buyerRegistrationTime), allowing a minute of clock skew."""

    def check_window(self, value: int, now: int) -> int:
        if value > now + CLOCK_SKEW_MS:
            raise serializers.ValidationError("must not be in the future (epoch milliseconds)")
        return value
