"""Field readers shared by every request schema (codes of docs/binance-pay.md#result-codes; table
in ``__init__``).

Each reader takes the JSON object, the key and the dotted path used in the error message
("goods.goodsName: ..."), and returns the normalised value or ``None`` when optional and absent.
``null`` and ``""`` count as absent, as Binance's "missing/empty/null" code 400100 suggests.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox import errors as E
from sandbox.errors import ApiError

ALNUM = re.compile(r"[A-Za-z0-9]+\Z")
DIGITS = re.compile(r"[0-9]+\Z")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")
_URL = re.compile(r"https?://[^\s]+\Z", re.IGNORECASE)
# A lone UTF-16 surrogate (a JSON "\ud800" escape without its pair) is not text: it cannot be
# written as UTF-8, which the API speaks both ways (docs/binance-pay.md#transport). Refused as
# malformed; stored, it made the answer (which echoes the field) fail after the order was saved.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MIN_AMOUNT = Decimal("0.00000001")
MAX_AMOUNT = Decimal("100000000000")  # sandbox choice: 1e11


class ExpNumber(str):
    """A JSON number written with an exponent (``1e-8``); amounts refuse it (see ``json_loads``)."""


def parse_json_number(text: str) -> Decimal | ExpNumber:
    """``parse_float`` hook: exact Decimal, exponents kept aside so they can be refused."""
    if "e" in text or "E" in text:
        return ExpNumber(text)
    return Decimal(text)


def fail(code: str, path: str, reason: str) -> ApiError:
    """The FAIL a schema check raises: message ``path: reason``."""
    return ApiError(code, f"{path}: {reason}")


def obj(src: dict[str, Any], key: str, path: str, *, required: bool = False) -> dict | None:
    """A nested JSON object."""
    value = src.get(key)
    if value is None:
        if required:
            raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must not be null")
        return None
    if not isinstance(value, dict):
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a JSON object")
    return value


def text(
    src: dict[str, Any],
    key: str,
    path: str,
    *,
    required: bool = False,
    max_len: int | None = None,
    enum: frozenset[str] | None = None,
) -> str | None:
    """A string, at most ``max_len`` characters, optionally one of ``enum``."""
    value = src.get(key)
    if value is None or value == "":
        if required:
            raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must not be empty")
        return None
    if not isinstance(value, str):
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a string")
    if LONE_SURROGATE.search(value):
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be valid Unicode text")
    if max_len is not None and len(value) > max_len:
        raise fail(E.INVALID_PARAM_WRONG_LENGTH, path, f"length must be at most {max_len}")
    if enum is not None and value not in enum:
        raise fail(E.INVALID_PARAM_WRONG_VALUE, path, f"must be one of {', '.join(sorted(enum))}")
    return value


def req_text(src: dict[str, Any], key: str, path: str, **rules: Any) -> str:
    """Like ``text(required=True)``, typed as never None."""
    return text(src, key, path, required=True, **rules) or ""


def alnum(
    src: dict[str, Any], key: str, path: str, *, max_len: int, code: str, required: bool
) -> str | None:
    """Letters and digits only, 1..``max_len``; a bad one fails with ``code``."""
    value = text(src, key, path, required=required)
    if value is not None and (len(value) > max_len or not ALNUM.match(value)):
        raise fail(code, path, f"must be 1-{max_len} letters or digits")
    return value


def decimal_value(value: Any, path: str) -> Decimal:
    """A positive amount with at most 8 decimals, from a JSON number or a numeric string."""
    if isinstance(value, bool) or value is None or value == "":
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a decimal number")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, ExpNumber):
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "exponent notation not allowed")
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _PLAIN_DECIMAL.match(value) and len(value) <= 40:
        try:
            amount = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the regex already guarantees a number
            raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "not a decimal") from None
    else:
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a decimal number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        raise fail(E.INVALID_PARAM_WRONG_LENGTH, path, "at most 8 decimal places")
    if amount < MIN_AMOUNT:
        raise fail(E.INVALID_PARAM_WRONG_VALUE, path, "must be at least 0.00000001")
    if amount > MAX_AMOUNT:
        raise fail(E.INVALID_PARAM_WRONG_VALUE, path, f"must be at most {MAX_AMOUNT}")
    return amount


def decimal_field(src: dict[str, Any], key: str, path: str, *, required: bool) -> Decimal | None:
    """An amount (``decimal_value``) that may be absent unless ``required``."""
    value = src.get(key)
    if value is None or value == "":
        if required:
            raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must not be empty")
        return None
    return decimal_value(value, path)


def long_field(src: dict[str, Any], key: str, path: str) -> int | None:
    """A Java long: JSON integer (or a string of digits, as lenient Jackson accepts)."""
    value = src.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and DIGITS.match(value) and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be an integer (long)")
    return value


def url_field(src: dict[str, Any], key: str, path: str, *, one_param: bool) -> str | None:
    """An http(s) URL of at most 256 characters; ``one_param``: at most one query parameter."""
    value = text(src, key, path, max_len=256)
    if value is None:
        return None
    if not _URL.match(value):
        raise fail(E.INVALID_PARAM_WRONG_VALUE, path, "must start with http:// or https://")
    if one_param and "?" in value:
        query = value.split("?", 1)[1].split("#", 1)[0]
        if len([p for p in query.split("&") if p]) > 1:
            # docs/binance-pay.md#create-order: "Only one parameter is allowed per URL".
            raise fail(E.INVALID_PARAM_WRONG_VALUE, path, "only one query parameter is allowed")
    return value


def person_name(src: dict[str, Any], key: str, path: str) -> None:
    """``{firstName (required), middleName, lastName (required)}``."""
    name = obj(src, key, path)
    if name is not None:
        text(name, "firstName", f"{path}.firstName", required=True)
        text(name, "middleName", f"{path}.middleName")
        text(name, "lastName", f"{path}.lastName", required=True)
