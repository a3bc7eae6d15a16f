"""Request schemas of the Binance endpoints (REFERENCE 2.1-2.7, seed 004 and 002).

Each ``parse_*`` takes the decoded JSON object and returns a small dataclass of normalised values,
or raises ``ApiError`` whose message names the field by dotted path ("goods.goodsName: ...").
Unknown fields are ignored. Code choice per failure (REFERENCE 1.8):

* missing / null / empty / wrong JSON type / not a decimal  -> 400100
* too long, too many decimals, bad format                     -> 400101
* value out of range / not in the enum                        -> 400102
* illegal characters (goodsName)                              -> 400103
* merchantTradeNo with bad characters or length               -> 400201 (sandbox choice; 4.8)
* share requestId with bad characters or length               -> 406301 (sandbox choice)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox import errors as E
from sandbox.errors import ApiError
from sandbox.refdata import (
    FIAT_RATES,
    GOODS_CATEGORIES,
    GOODS_TYPES,
    ORDER_CURRENCIES,
    OS_TYPES,
    REGIONS,
    SHIPPING_ADDRESS_TYPES,
    TERMINAL_TYPES,
)

ALNUM = re.compile(r"[A-Za-z0-9]+\Z")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_URL = re.compile(r"https?://[^\s]+\Z", re.IGNORECASE)
_PAY_CURRENCY = re.compile(r"[A-Z0-9]{1,20}\Z")
# Emoji and pictographs (plus joiners/variation selectors and lone surrogates).
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\u3030\u303d"
    "\u3297\u3299\U000e0020-\U000e007f\ud800-\udfff]"
)
MIN_AMOUNT = Decimal("0.00000001")
MAX_AMOUNT = Decimal("100000000000")  # sandbox choice: 1e11
MAX_EXPIRE_MS = 15 * 24 * 3600 * 1000  # REFERENCE 2.1: maximum 15 days
DEFAULT_EXPIRE_MS = 3600 * 1000  # REFERENCE 2.1: default 1 hour


class ExpNumber(str):
    """A JSON number written with an exponent (``1e-8``); amounts refuse it (see ``json_loads``)."""


def parse_json_number(text: str) -> Decimal | ExpNumber:
    """``parse_float`` hook: exact Decimal, exponents kept aside so they can be refused."""
    if "e" in text or "E" in text:
        return ExpNumber(text)
    return Decimal(text)


def _fail(code: str, path: str, reason: str) -> ApiError:
    return ApiError(code, f"{path}: {reason}")


def _obj(src: dict[str, Any], key: str, path: str, *, required: bool = False) -> dict | None:
    value = src.get(key)
    if value is None:
        if required:
            raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must not be null")
        return None
    if not isinstance(value, dict):
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a JSON object")
    return value


def _str(
    src: dict[str, Any],
    key: str,
    path: str,
    *,
    required: bool = False,
    max_len: int | None = None,
    enum: frozenset[str] | None = None,
) -> str | None:
    value = src.get(key)
    if value is None or value == "":
        if required:
            raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must not be empty")
        return None
    if not isinstance(value, str):
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a string")
    if max_len is not None and len(value) > max_len:
        raise _fail(E.INVALID_PARAM_WRONG_LENGTH, path, f"length must be at most {max_len}")
    if enum is not None and value not in enum:
        raise _fail(E.INVALID_PARAM_WRONG_VALUE, path, f"must be one of {', '.join(sorted(enum))}")
    return value


def _req_str(src: dict[str, Any], key: str, path: str, **rules: Any) -> str:
    """Like ``_str(required=True)``, typed as never None."""
    return _str(src, key, path, required=True, **rules) or ""


def _alnum(
    src: dict[str, Any], key: str, path: str, *, max_len: int, code: str, required: bool
) -> str | None:
    value = _str(src, key, path, required=required)
    if value is not None and (len(value) > max_len or not ALNUM.match(value)):
        raise _fail(code, path, f"must be 1-{max_len} letters or digits")
    return value


def decimal_value(value: Any, path: str) -> Decimal:
    """A positive amount with at most 8 decimals, from a JSON number or a numeric string."""
    if isinstance(value, bool) or value is None or value == "":
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a decimal number")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, ExpNumber):
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "exponent notation not allowed")
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _PLAIN_DECIMAL.match(value) and len(value) <= 40:
        try:
            amount = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the regex already guarantees a number
            raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "not a decimal") from None
    else:
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a decimal number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        raise _fail(E.INVALID_PARAM_WRONG_LENGTH, path, "at most 8 decimal places")
    if amount < MIN_AMOUNT:
        raise _fail(E.INVALID_PARAM_WRONG_VALUE, path, "must be at least 0.00000001")
    if amount > MAX_AMOUNT:
        raise _fail(E.INVALID_PARAM_WRONG_VALUE, path, f"must be at most {MAX_AMOUNT}")
    return amount


def _decimal(src: dict[str, Any], key: str, path: str, *, required: bool) -> Decimal | None:
    value = src.get(key)
    if value is None or value == "":
        if required:
            raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must not be empty")
        return None
    return decimal_value(value, path)


def _long(src: dict[str, Any], key: str, path: str) -> int | None:
    """A Java long: JSON integer (or a string of digits, as lenient Jackson accepts)."""
    value = src.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and _DIGITS.match(value) and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be an integer (long)")
    return value


def _url(src: dict[str, Any], key: str, path: str, *, one_param: bool) -> str | None:
    value = _str(src, key, path, max_len=256)
    if value is None:
        return None
    if not _URL.match(value):
        raise _fail(E.INVALID_PARAM_WRONG_VALUE, path, "must start with http:// or https://")
    if one_param and "?" in value:
        query = value.split("?", 1)[1].split("#", 1)[0]
        if len([p for p in query.split("&") if p]) > 1:
            # seed 004: "Only one parameter is allowed per URL".
            raise _fail(E.INVALID_PARAM_WRONG_VALUE, path, "only one query parameter is allowed")
    return value


def _person_name(src: dict[str, Any], key: str, path: str) -> None:
    name = _obj(src, key, path)
    if name is not None:
        _str(name, "firstName", f"{path}.firstName", required=True)
        _str(name, "middleName", f"{path}.middleName")
        _str(name, "lastName", f"{path}.lastName", required=True)


@dataclass(frozen=True)
class NewOrder:
    merchant_trade_no: str
    terminal_type: str
    currency: str
    amount: Decimal
    fiat_currency: str | None
    fiat_amount: Decimal | None
    goods: dict[str, Any]
    return_url: str | None
    cancel_url: str | None
    webhook_url: str | None
    pass_through_info: str | None
    universal_url_attach: str | None
    expire_time: int


def parse_create_order(body: dict[str, Any], *, now: int) -> NewOrder:
    """Create Order v2 (REFERENCE 2.1, seed 004)."""
    merchant = _obj(body, "merchant", "merchant")
    if merchant is not None:
        sub = _str(merchant, "subMerchantId", "merchant.subMerchantId", max_len=19)
        if sub is not None and not _DIGITS.match(sub):
            raise _fail(E.INVALID_PARAM_WRONG_LENGTH, "merchant.subMerchantId", "must be digits")
    env = _obj(body, "env", "env", required=True) or {}
    terminal = _req_str(env, "terminalType", "env.terminalType", enum=TERMINAL_TYPES)
    _str(env, "osType", "env.osType", enum=OS_TYPES)
    _str(env, "orderClientIp", "env.orderClientIp", max_len=64)
    _str(env, "cookieId", "env.cookieId", max_len=256)
    trade_no = (
        _alnum(
            body,
            "merchantTradeNo",
            "merchantTradeNo",
            max_len=32,
            code=E.INVALID_MERCHANT_TRADE_NO,
            required=True,
        )
        or ""
    )
    currency, amount, fiat_currency, fiat_amount = _amounts(body)
    goods = _goods(body)
    _shipping(body)
    _buyer(body)
    return_url = _url(body, "returnUrl", "returnUrl", one_param=True)
    cancel_url = _url(body, "cancelUrl", "cancelUrl", one_param=True)
    webhook_url = _url(body, "webhookUrl", "webhookUrl", one_param=False)
    expire = _long(body, "orderExpireTime", "orderExpireTime")
    if expire is None:
        expire = now + DEFAULT_EXPIRE_MS
    elif not now < expire <= now + MAX_EXPIRE_MS:
        # Sandbox choice (REFERENCE 2.1 note): absolute epoch ms within (now, now + 15 days].
        raise _fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "orderExpireTime",
            "must be an epoch-ms time after now and at most 15 days ahead",
        )
    spc = _str(body, "supportPayCurrency", "supportPayCurrency", max_len=1024)
    if spc is not None and not all(_PAY_CURRENCY.match(c.strip()) for c in spc.split(",")):
        raise _fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "supportPayCurrency",
            "must be a comma-separated list of upper-case currency codes",
        )
    app_id = _str(body, "appId", "appId", max_len=64)
    if terminal == "MINI_PROGRAM" and app_id is None:
        raise _fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "appId", "required for MINI_PROGRAM")
    attach = _str(body, "universalUrlAttach", "universalUrlAttach", max_len=120)
    pass_through = _str(body, "passThroughInfo", "passThroughInfo", max_len=512)
    if body.get("directDebitContract") is not None:
        # Whitelisted merchants only (seed 004); the sandbox merchant is not whitelisted.
        raise ApiError(
            E.MERCHANT_ACCESS_FORBIDDEN,
            "directDebitContract: Account has no accessibility to this function",
        )
    tags = _obj(body, "orderTags", "orderTags")
    sharing = None if tags is None else tags.get("ifProfitSharing")
    if sharing is not None and not isinstance(sharing, bool):
        raise _fail(
            E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "orderTags.ifProfitSharing", "must be a boolean"
        )
    return NewOrder(
        merchant_trade_no=trade_no,
        terminal_type=terminal,
        currency=currency,
        amount=amount,
        fiat_currency=fiat_currency,
        fiat_amount=fiat_amount,
        goods=goods,
        return_url=return_url,
        cancel_url=cancel_url,
        webhook_url=webhook_url,
        pass_through_info=pass_through,
        universal_url_attach=attach,
        expire_time=expire,
    )


def fiat_to_usdt(fiat_currency: str, fiat_amount: Decimal) -> Decimal:
    """Convert with the fixed sandbox rate table, rounded half-up to 8 decimals, no trailing
    zeros (100 HKD -> 12.77377391, 5 USD -> 5)."""
    converted = (fiat_amount * FIAT_RATES[fiat_currency]).quantize(
        MIN_AMOUNT, rounding="ROUND_HALF_UP"
    )
    return Decimal(format(converted.normalize(), "f"))


def _amounts(body: dict[str, Any]) -> tuple[str, Decimal, str | None, Decimal | None]:
    currency = _str(body, "currency", "currency")
    fiat_currency = _str(body, "fiatCurrency", "fiatCurrency")
    if currency is None and fiat_currency is None:
        raise _fail(
            E.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "currency",
            "currency and fiatCurrency cannot both be null",
        )
    if currency is not None and currency not in ORDER_CURRENCIES:
        reason = (
            "fiat currency not supported here, use fiatCurrency"
            if currency.upper() in FIAT_RATES
            else (f"must be one of {', '.join(sorted(ORDER_CURRENCIES))} (upper case)")
        )
        raise _fail(E.INVALID_PARAM_WRONG_VALUE, "currency", reason)
    order_amount = _decimal(body, "orderAmount", "orderAmount", required=fiat_currency is None)
    if fiat_currency is None:
        return currency or "", order_amount or Decimal(0), None, None
    if fiat_currency not in FIAT_RATES:
        raise _fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "fiatCurrency",
            f"must be one of {', '.join(sorted(FIAT_RATES))} (upper case)",
        )
    fiat_amount = _decimal(body, "fiatAmount", "fiatAmount", required=True) or Decimal(0)
    converted = fiat_to_usdt(fiat_currency, fiat_amount)
    if converted < MIN_AMOUNT:
        raise _fail(
            E.INVALID_PARAM_WRONG_VALUE, "fiatAmount", "converts to less than 0.00000001 USDT"
        )
    # Sandbox choice: both given is accepted only if consistent (fiat forces USDT, seed 004).
    if currency is not None and currency != "USDT":
        raise _fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "currency",
            "must be USDT (or null) when fiatCurrency is set",
        )
    if order_amount is not None and order_amount != converted:
        raise _fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "orderAmount",
            f"does not match fiatAmount converted at the sandbox rate ({converted})",
        )
    return "USDT", converted, fiat_currency, fiat_amount


def _goods(body: dict[str, Any]) -> dict[str, Any]:
    goods = _obj(body, "goods", "goods", required=True) or {}
    out: dict[str, Any] = {
        "goodsType": _str(goods, "goodsType", "goods.goodsType", required=True, enum=GOODS_TYPES),
        "goodsCategory": _str(
            goods, "goodsCategory", "goods.goodsCategory", required=True, enum=GOODS_CATEGORIES
        ),
        "referenceGoodsId": _str(
            goods, "referenceGoodsId", "goods.referenceGoodsId", required=True, max_len=256
        ),
        "goodsName": _str(goods, "goodsName", "goods.goodsName", required=True, max_len=256),
        "goodsDetail": _str(goods, "goodsDetail", "goods.goodsDetail", max_len=256),
    }
    name = out["goodsName"]
    if "\\" in name or '"' in name or _EMOJI.search(name):
        raise _fail(
            E.INVALID_PARAM_ILLEGAL_CHAR, "goods.goodsName", 'must not contain \\, " or emoji'
        )
    quantity = goods.get("goodsQuantity")
    if quantity is not None and quantity != "":
        if isinstance(quantity, bool) or not isinstance(quantity, str | int):
            raise _fail(
                E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "goods.goodsQuantity", "must be a string"
            )
        out["goodsQuantity"] = str(quantity)
    unit = _obj(goods, "goodsUnitAmount", "goods.goodsUnitAmount")
    if unit is not None:
        unit_currency = _str(
            unit, "currency", "goods.goodsUnitAmount.currency", required=True, max_len=16
        )
        unit_amount = _decimal(unit, "amount", "goods.goodsUnitAmount.amount", required=True)
        out["goodsUnitAmount"] = {"currency": unit_currency, "amount": format(unit_amount, "f")}
    return out


def _shipping(body: dict[str, Any]) -> None:
    shipping = _obj(body, "shipping", "shipping")
    if shipping is None:
        return
    _person_name(shipping, "shippingName", "shipping.shippingName")
    address = _obj(shipping, "shippingAddress", "shipping.shippingAddress")
    if address is not None:
        p = "shipping.shippingAddress"
        region = _str(address, "region", f"{p}.region", required=True)
        if region not in REGIONS:
            raise _fail(
                E.INVALID_PARAM_WRONG_VALUE, f"{p}.region", "must be an ISO 3166-1 alpha-2 code"
            )
        for key in ("state", "city", "address", "zipCode"):
            _str(address, key, f"{p}.{key}", max_len=256)
        _str(
            address, "shippingAddressType", f"{p}.shippingAddressType", enum=SHIPPING_ADDRESS_TYPES
        )
    _str(shipping, "shippingPhoneNo", "shipping.shippingPhoneNo", max_len=64)


def _buyer(body: dict[str, Any]) -> None:
    buyer = _obj(body, "buyer", "buyer")
    if buyer is None:
        return
    _str(buyer, "referenceBuyerId", "buyer.referenceBuyerId", max_len=64)
    _person_name(buyer, "buyerName", "buyer.buyerName")
    for key in ("buyerPhoneCountryCode", "buyerPhoneNo", "buyerEmail", "buyerBrowserLanguage"):
        _str(buyer, key, f"buyer.{key}", max_len=256)
    _long(buyer, "buyerRegistrationTime", "buyer.buyerRegistrationTime")


@dataclass(frozen=True)
class OrderRef:
    prepay_id: str | None
    merchant_trade_no: str | None


def parse_order_ref(body: dict[str, Any]) -> OrderRef:
    """Query Order v2 / Close Order: prepayId or merchantTradeNo; prepayId wins (REFERENCE 2.2)."""
    code = E.INVALID_PARAM_WRONG_LENGTH
    prepay = _alnum(body, "prepayId", "prepayId", max_len=19, code=code, required=False)
    trade_no = _alnum(
        body, "merchantTradeNo", "merchantTradeNo", max_len=32, code=code, required=False
    )
    if prepay is None and trade_no is None:
        raise _fail(
            E.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "prepayId",
            "prepayId or merchantTradeNo is required",
        )
    return OrderRef(prepay, None if prepay else trade_no)


@dataclass(frozen=True)
class RefundRequest:
    refund_request_id: str
    prepay_id: str
    amount: Decimal
    reason: str | None
    webhook_url: str | None


def parse_refund(body: dict[str, Any]) -> RefundRequest:
    """Refund Order (REFERENCE 2.4)."""
    request_id = _req_str(body, "refundRequestId", "refundRequestId", max_len=64)
    prepay = _alnum(
        body, "prepayId", "prepayId", max_len=19, code=E.INVALID_PARAM_WRONG_LENGTH, required=True
    )
    amount = _decimal(body, "refundAmount", "refundAmount", required=True) or Decimal(0)
    reason = _str(body, "refundReason", "refundReason", max_len=256)
    webhook = _url(body, "webhookUrl", "webhookUrl", one_param=False)
    return RefundRequest(request_id, prepay or "", amount, reason, webhook)


def parse_refund_query(body: dict[str, Any]) -> str:
    """Query Refund (REFERENCE 2.5): the refundRequestId."""
    return _req_str(body, "refundRequestId", "refundRequestId", max_len=64)


@dataclass(frozen=True)
class ShareRequest:
    request_id: str
    sub_merchant_id: str | None
    webhook_url: str | None


def parse_share(body: dict[str, Any]) -> ShareRequest:
    """Share Account Id (REFERENCE 2.7, seed 002)."""
    request_id = _alnum(
        body,
        "requestId",
        "requestId",
        max_len=32,
        code=E.REQUEST_ID_INVALID_OR_DUPLICATED,
        required=True,
    )
    sub = _str(body, "subMerchantId", "subMerchantId", max_len=19)
    webhook = _url(body, "webhookUrl", "webhookUrl", one_param=False)
    return ShareRequest(request_id or "", sub, webhook)
