"""Create Order schemas: v2 (docs/binance-pay.md#create-order) and v3 (docs/binance-pay-v3.md).

The body is read in three parts, in the order Binance lists the fields: the head (merchant, env,
merchantTradeNo, amounts), the version's goods part, and the tail (shipping, buyer, URLs, expiry,
the remaining options). Head and tail are the same for both versions (docs/binance-pay-v3.md 4);
v2's goods part is one ``goods`` object, v3's is ``description`` plus a ``goodsDetails`` array of
the same objects, and v3 adds ``qrCodeReferId`` and ``voucherCode`` after the tail. Both produce a
``NewOrder``; its ``goods`` is the v2 object or the first v3 item, which is what the webhooks and
the checkout page show as the product (sandbox choice, docs/binance-pay-v3.md 6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
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
from sandbox.validation.fields import (
    DIGITS,
    LONE_SURROGATE,
    MIN_AMOUNT,
    alnum,
    decimal_field,
    fail,
    long_field,
    obj,
    person_name,
    req_text,
    text,
    url_field,
)

_PAY_CURRENCY = re.compile(r"[A-Z0-9]{1,20}\Z")
# Emoji and pictographs (plus joiners/variation selectors and lone surrogates). U+20E3 (keycap)
# and U+25FD-25FE (emoji by default) are emoji too: docs/binance-pay.md#create-order says "no
# emoji", and without them "1\u20e3" or "\u25fd" passed (found by tests/contract).
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\u3030\u303d"
    "\u3297\u3299\u20e3\u25fd\u25fe\U000e0020-\U000e007f\ud800-\udfff]"
)
MAX_EXPIRE_MS = 15 * 24 * 3600 * 1000  # docs/binance-pay.md#create-order: maximum 15 days
DEFAULT_EXPIRE_MS = 3600 * 1000  # docs/binance-pay.md#create-order: default 1 hour
# Sandbox choices where Binance's docs give no limit (docs/binance-pay-v3.md 6).
MAX_DESCRIPTION = 256  # as goodsName / goodsDetail
MAX_GOODS_DETAILS = 100
MAX_QR_CODE_REFER_ID = 19  # a referId is a bizIdStr: a decimal long


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
    sub_merchant_id: str | None = None
    api_version: str = "v2"
    # v3 only (docs/binance-pay-v3.md 3): all goods items, the description, the QR scan referId.
    goods_details: tuple[dict[str, Any], ...] | None = None
    description: str | None = None
    qr_code_refer_id: str | None = None


def parse_create_order(body: dict[str, Any], *, now: int) -> NewOrder:
    """Create Order v2 (docs/binance-pay.md#create-order): one ``goods`` object."""
    head = _head(body)
    goods = goods_item(obj(body, "goods", "goods", required=True) or {}, "goods")
    return NewOrder(goods=goods, **head, **_tail(body, terminal=head["terminal_type"], now=now))


def parse_create_order_v3(body: dict[str, Any], *, now: int) -> NewOrder:
    """Create Order v3 (docs/binance-pay-v3.md 3): ``description`` and ``goodsDetails`` instead
    of ``goods`` (a ``goods`` key is ignored like any unknown field), then ``qrCodeReferId`` and
    ``voucherCode``. The channel-partner rule on ``merchant.subMerchantId`` depends on the
    account, so the API handler applies it (``api._create_order_v3``)."""
    head = _head(body)
    description = req_text(body, "description", "description", max_len=MAX_DESCRIPTION)
    details = _goods_details(body)
    tail = _tail(body, terminal=head["terminal_type"], now=now)
    refer_id = text(body, "qrCodeReferId", "qrCodeReferId")
    too_long = refer_id is not None and len(refer_id) > MAX_QR_CODE_REFER_ID
    if refer_id is not None and (too_long or not DIGITS.match(refer_id)):
        raise fail(
            E.INVALID_PARAM_WRONG_LENGTH,
            "qrCodeReferId",
            f"must be the referId of a merchant QR code scan: 1-{MAX_QR_CODE_REFER_ID} digits",
        )
    if text(body, "voucherCode", "voucherCode") is not None:
        # The sandbox issues no vouchers, so every code is unknown (docs/binance-pay-v3.md 6).
        raise fail(E.INVALID_PARAM_WRONG_VALUE, "voucherCode", "no such voucher")
    return NewOrder(
        goods=details[0],
        **head,
        **tail,
        api_version="v3",
        goods_details=details,
        description=description,
        qr_code_refer_id=refer_id,
    )


def _goods_details(body: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    value = body.get("goodsDetails")
    if value is None:
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "goodsDetails", "must not be null")
    if not isinstance(value, list):
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "goodsDetails", "must be a JSON array")
    if not value:
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "goodsDetails", "must not be empty")
    if len(value) > MAX_GOODS_DETAILS:
        raise fail(
            E.INVALID_PARAM_WRONG_LENGTH, "goodsDetails", f"at most {MAX_GOODS_DETAILS} items"
        )
    items = []
    for index, item in enumerate(value):
        path = f"goodsDetails[{index}]"
        if not isinstance(item, dict):
            raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, path, "must be a JSON object")
        items.append(goods_item(item, path))
    return tuple(items)


def _head(body: dict[str, Any]) -> dict[str, Any]:
    merchant = obj(body, "merchant", "merchant")
    sub = None
    if merchant is not None:
        sub = text(merchant, "subMerchantId", "merchant.subMerchantId", max_len=19)
        if sub is not None and not DIGITS.match(sub):
            raise fail(E.INVALID_PARAM_WRONG_LENGTH, "merchant.subMerchantId", "must be digits")
    env = obj(body, "env", "env", required=True) or {}
    terminal = req_text(env, "terminalType", "env.terminalType", enum=TERMINAL_TYPES)
    text(env, "osType", "env.osType", enum=OS_TYPES)
    text(env, "orderClientIp", "env.orderClientIp", max_len=64)
    text(env, "cookieId", "env.cookieId", max_len=256)
    trade_no = alnum(
        body,
        "merchantTradeNo",
        "merchantTradeNo",
        max_len=32,
        code=E.INVALID_MERCHANT_TRADE_NO,
        required=True,
    )
    currency, amount, fiat_currency, fiat_amount = _amounts(body)
    return {
        "sub_merchant_id": sub,
        "merchant_trade_no": trade_no or "",
        "terminal_type": terminal,
        "currency": currency,
        "amount": amount,
        "fiat_currency": fiat_currency,
        "fiat_amount": fiat_amount,
    }


def _tail(body: dict[str, Any], *, terminal: str, now: int) -> dict[str, Any]:
    _shipping(body)
    _buyer(body)
    return_url = url_field(body, "returnUrl", "returnUrl", one_param=True)
    cancel_url = url_field(body, "cancelUrl", "cancelUrl", one_param=True)
    webhook_url = url_field(body, "webhookUrl", "webhookUrl", one_param=False)
    expire = long_field(body, "orderExpireTime", "orderExpireTime")
    if expire is None:
        expire = now + DEFAULT_EXPIRE_MS
    elif not now < expire <= now + MAX_EXPIRE_MS:
        # Sandbox choice (see the note in docs/binance-pay.md#create-order): absolute epoch ms
        # within (now, now + 15 days].
        raise fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "orderExpireTime",
            "must be an epoch-ms time after now and at most 15 days ahead",
        )
    spc = text(body, "supportPayCurrency", "supportPayCurrency", max_len=1024)
    if spc is not None and not all(_PAY_CURRENCY.match(c.strip()) for c in spc.split(",")):
        raise fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "supportPayCurrency",
            "must be a comma-separated list of upper-case currency codes",
        )
    app_id = text(body, "appId", "appId", max_len=64)
    if terminal == "MINI_PROGRAM" and app_id is None:
        raise fail(E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "appId", "required for MINI_PROGRAM")
    attach = text(body, "universalUrlAttach", "universalUrlAttach", max_len=120)
    pass_through = text(body, "passThroughInfo", "passThroughInfo", max_len=512)
    if body.get("directDebitContract") is not None:
        # Whitelisted merchants only (docs/binance-pay.md#create-order); the sandbox merchant is not
        # whitelisted.
        raise ApiError(
            E.MERCHANT_ACCESS_FORBIDDEN,
            "directDebitContract: Account has no accessibility to this function",
        )
    tags = obj(body, "orderTags", "orderTags")
    sharing = None if tags is None else tags.get("ifProfitSharing")
    if sharing is not None and not isinstance(sharing, bool):
        raise fail(
            E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "orderTags.ifProfitSharing", "must be a boolean"
        )
    return {
        "return_url": return_url,
        "cancel_url": cancel_url,
        "webhook_url": webhook_url,
        "pass_through_info": pass_through,
        "universal_url_attach": attach,
        "expire_time": expire,
    }


def fiat_to_usdt(fiat_currency: str, fiat_amount: Decimal) -> Decimal:
    """Convert with the fixed sandbox rate table, rounded half-up to 8 decimals, no trailing
    zeros (100 HKD -> 12.77377391, 5 USD -> 5)."""
    converted = (fiat_amount * FIAT_RATES[fiat_currency]).quantize(
        MIN_AMOUNT, rounding="ROUND_HALF_UP"
    )
    return Decimal(format(converted.normalize(), "f"))


def _amounts(body: dict[str, Any]) -> tuple[str, Decimal, str | None, Decimal | None]:
    currency = text(body, "currency", "currency")
    fiat_currency = text(body, "fiatCurrency", "fiatCurrency")
    if currency is None and fiat_currency is None:
        raise fail(
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
        raise fail(E.INVALID_PARAM_WRONG_VALUE, "currency", reason)
    order_amount = decimal_field(body, "orderAmount", "orderAmount", required=fiat_currency is None)
    if fiat_currency is None:
        return currency or "", order_amount or Decimal(0), None, None
    if fiat_currency not in FIAT_RATES:
        raise fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "fiatCurrency",
            f"must be one of {', '.join(sorted(FIAT_RATES))} (upper case)",
        )
    fiat_amount = decimal_field(body, "fiatAmount", "fiatAmount", required=True) or Decimal(0)
    converted = fiat_to_usdt(fiat_currency, fiat_amount)
    if converted < MIN_AMOUNT:
        raise fail(
            E.INVALID_PARAM_WRONG_VALUE, "fiatAmount", "converts to less than 0.00000001 USDT"
        )
    # Sandbox choice: both given is accepted only if consistent (fiat forces USDT,
    # docs/binance-pay.md#create-order).
    if currency is not None and currency != "USDT":
        raise fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "currency",
            "must be USDT (or null) when fiatCurrency is set",
        )
    if order_amount is not None and order_amount != converted:
        raise fail(
            E.INVALID_PARAM_WRONG_VALUE,
            "orderAmount",
            f"does not match fiatAmount converted at the sandbox rate ({converted})",
        )
    return "USDT", converted, fiat_currency, fiat_amount


def goods_item(goods: dict[str, Any], path: str) -> dict[str, Any]:
    """One goods object found at ``path`` (v2 ``goods``, v3 ``goodsDetails[i]``; the same rules,
    docs/binance-pay-v3.md 3.1), normalised to the stored shape."""
    out: dict[str, Any] = {
        "goodsType": text(goods, "goodsType", f"{path}.goodsType", required=True, enum=GOODS_TYPES),
        "goodsCategory": text(
            goods, "goodsCategory", f"{path}.goodsCategory", required=True, enum=GOODS_CATEGORIES
        ),
        "referenceGoodsId": text(
            goods, "referenceGoodsId", f"{path}.referenceGoodsId", required=True, max_len=256
        ),
        "goodsName": text(goods, "goodsName", f"{path}.goodsName", required=True, max_len=256),
        "goodsDetail": text(goods, "goodsDetail", f"{path}.goodsDetail", max_len=256),
    }
    name = out["goodsName"]
    if "\\" in name or '"' in name or _EMOJI.search(name):
        raise fail(
            E.INVALID_PARAM_ILLEGAL_CHAR, f"{path}.goodsName", 'must not contain \\, " or emoji'
        )
    quantity = goods.get("goodsQuantity")
    if quantity is not None and quantity != "":
        if isinstance(quantity, bool) or not isinstance(quantity, str | int):
            raise fail(
                E.MANDATORY_PARAM_EMPTY_OR_MALFORMED, f"{path}.goodsQuantity", "must be a string"
            )
        if isinstance(quantity, str) and LONE_SURROGATE.search(quantity):
            raise fail(
                E.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                f"{path}.goodsQuantity",
                "must be valid Unicode text",
            )
        out["goodsQuantity"] = str(quantity)
    unit = obj(goods, "goodsUnitAmount", f"{path}.goodsUnitAmount")
    if unit is not None:
        unit_currency = text(
            unit, "currency", f"{path}.goodsUnitAmount.currency", required=True, max_len=16
        )
        unit_amount = decimal_field(unit, "amount", f"{path}.goodsUnitAmount.amount", required=True)
        out["goodsUnitAmount"] = {"currency": unit_currency, "amount": format(unit_amount, "f")}
    return out


def _shipping(body: dict[str, Any]) -> None:
    shipping = obj(body, "shipping", "shipping")
    if shipping is None:
        return
    person_name(shipping, "shippingName", "shipping.shippingName")
    address = obj(shipping, "shippingAddress", "shipping.shippingAddress")
    if address is not None:
        p = "shipping.shippingAddress"
        region = text(address, "region", f"{p}.region", required=True)
        if region not in REGIONS:
            raise fail(
                E.INVALID_PARAM_WRONG_VALUE, f"{p}.region", "must be an ISO 3166-1 alpha-2 code"
            )
        for key in ("state", "city", "address", "zipCode"):
            text(address, key, f"{p}.{key}", max_len=256)
        text(
            address, "shippingAddressType", f"{p}.shippingAddressType", enum=SHIPPING_ADDRESS_TYPES
        )
    text(shipping, "shippingPhoneNo", "shipping.shippingPhoneNo", max_len=64)


def _buyer(body: dict[str, Any]) -> None:
    buyer = obj(body, "buyer", "buyer")
    if buyer is None:
        return
    text(buyer, "referenceBuyerId", "buyer.referenceBuyerId", max_len=64)
    person_name(buyer, "buyerName", "buyer.buyerName")
    for key in ("buyerPhoneCountryCode", "buyerPhoneNo", "buyerEmail", "buyerBrowserLanguage"):
        text(buyer, key, f"buyer.{key}", max_len=256)
    long_field(buyer, "buyerRegistrationTime", "buyer.buyerRegistrationTime")
