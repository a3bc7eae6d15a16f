"""orders.validation: every Binance Create Order v2 rule (docs/binance-pay.md#create-order) is
checked before any call.

Each rule has a refused value (asserting the dotted error path and that the message names the
rule) and an accepted value. The base body is the Binance docs' own crypto sample.
"""

import copy
import json
from decimal import Decimal

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orders.validation import (
    AMOUNT_MIN,
    GOODS_CATEGORIES,
    ISO_3166_ALPHA2,
    SUPPORTED_CRYPTO,
    SUPPORTED_FIAT,
    TERMINAL_TYPES,
    AccountShareRequestSerializer,
    AmountError,
    CreateOrderSerializer,
    OrderListFilterSerializer,
    RefundRequestSerializer,
    is_emoji,
    parse_amount,
    unsafe_text_message,
)
from paysvc import clock
from paysvc.exceptions import flatten_errors

NOW = 1_750_000_000_000  # 2025-06-15T15:06:40Z, epoch ms
DAY = 24 * 3600 * 1000
DELETE = object()  # marker: remove the key
ABSENT = object()  # marker: the key is not in validated_data

# docs/binance-pay.md#create-order, "Sample Request Body", verbatim.
CRYPTO_SAMPLE = """{
"env": {
"terminalType": "APP"
},
"orderTags": {
"ifProfitSharing": true
},
"merchantTradeNo": "9825382937292",
"orderAmount": 25.17,
"currency": "USDT",
"goods": {
"goodsType": "01",
"goodsCategory": "D000",
"referenceGoodsId": "7876763A3B",
"goodsName": "Ice Cream",
"goodsDetail": "Greentea ice cream cone"
}
}"""
FIAT_SAMPLE = CRYPTO_SAMPLE.replace(
    '"orderAmount": 25.17,\n"currency": "USDT",', '"fiatAmount": 100,\n"fiatCurrency": "HKD",'
)

hypothesis_fixture_ok = hypothesis_settings(
    # The autouse fixtures (fixed clock, URL setting) are the same for every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    deadline=None,
)


@pytest.fixture(autouse=True)
def _fixed_clock_public_urls_only(monkeypatch, settings):
    monkeypatch.setattr(clock, "now_ms", lambda: NOW)
    settings.PAYSVC_ALLOW_PRIVATE_URLS = False


def load(text):
    """Parse JSON as the API does: numbers with a fraction become Decimal."""
    return json.loads(text, parse_float=Decimal)


def crypto_order(changes=None):
    body = load(CRYPTO_SAMPLE)
    for path, value in (changes or {}).items():
        set_path(body, path, value)
    return body


def set_path(body, path, value):
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        node.pop(last, None)
    else:
        node[last] = copy.deepcopy(value)


def get_path(data, path):
    node = data
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return ABSENT
        node = node[key]
    return node


def errors_of(data, serializer_class=CreateOrderSerializer):
    serializer = serializer_class(data=data)
    assert not serializer.is_valid()
    return flatten_errors(serializer.errors)


def validated(data, serializer_class=CreateOrderSerializer):
    serializer = serializer_class(data=data)
    assert serializer.is_valid(), flatten_errors(serializer.errors)
    return serializer.validated_data


def bad(changes, at, fragment):
    label = ",".join(f"{k}={v!r}"[:40] for k, v in changes.items())
    return pytest.param(changes, at, fragment, id=f"{label}->{at}")


def good(changes, path, expected=None):
    label = ",".join(f"{k}={v!r}"[:40] for k, v in changes.items())
    return pytest.param(changes, path, expected, id=label)


def _drop_crypto(**fiat):
    return {"orderAmount": DELETE, "currency": DELETE, **fiat}


GOODS_NAME = 'must not contain \\, " or emoji (Binance rule for goodsName)'
LONG_URL = "https://example.com/" + "a" * 237  # 257 characters

BAD_FIELDS = [
    # env
    bad({"env": DELETE}, "env", "is required"),
    bad({"env": None}, "env", "must not be null"),
    bad({"env": []}, "env", "must be a JSON object, not an array"),
    bad({"env": "APP"}, "env", "must be a JSON object, not a string"),
    bad({"env.terminalType": DELETE}, "env.terminalType", "is required"),
    bad({"env.terminalType": None}, "env.terminalType", "must not be null"),
    bad({"env.terminalType": "app"}, "env.terminalType", "must be upper case"),
    bad(
        {"env.terminalType": "DESKTOP"},
        "env.terminalType",
        "must be one of APP, WEB, WAP, MINI_PROGRAM, OTHERS",
    ),
    bad({"env.terminalType": ["APP"]}, "env.terminalType", "must be a string, not an array"),
    bad({"env.osType": "WINDOWS"}, "env.osType", "must be one of IOS, ANDROID"),
    bad({"env.orderClientIp": "300.1.1.1"}, "env.orderClientIp", "valid IPv4 or IPv6 address"),
    bad({"env.orderClientIp": "01.2.3.4"}, "env.orderClientIp", "valid IPv4 or IPv6 address"),
    bad({"env.orderClientIp": "fe80::1%eth0"}, "env.orderClientIp", "valid IPv4 or IPv6"),
    bad({"env.orderClientIp": 2130706433}, "env.orderClientIp", "must be a string"),
    bad({"env.cookieId": "c" * 257}, "env.cookieId", "must be at most 256 characters"),
    bad({"env.cookieId": "a b"}, "env.cookieId", "visible ASCII"),
    bad({"env.userAgent": "Mozilla"}, "env.userAgent", "unknown field"),
    # merchantTradeNo: string(32], letter or digit (docs/binance-pay.md#create-order)
    bad({"merchantTradeNo": "A" * 33}, "merchantTradeNo", "must be at most 32 characters"),
    bad(
        {"merchantTradeNo": "order-123"},
        "merchantTradeNo",
        "must contain only letters and digits (Binance: merchantTradeNo is letter or digit)",
    ),
    bad({"merchantTradeNo": "ORDER_1"}, "merchantTradeNo", "only letters and digits"),
    bad({"merchantTradeNo": "\u0410BC123"}, "merchantTradeNo", "only letters and digits"),
    bad({"merchantTradeNo": "\uff11\uff12\uff13"}, "merchantTradeNo", "only letters and digits"),
    bad({"merchantTradeNo": "abc\ndef"}, "merchantTradeNo", "control characters"),
    bad({"merchantTradeNo": ""}, "merchantTradeNo", "must not be blank"),
    bad({"merchantTradeNo": 9825382937292}, "merchantTradeNo", "must be a string"),
    # orderAmount: decimal(.8), minimum 0.00000001
    bad({"orderAmount": 0}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": "0"}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": "-1.50"}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": Decimal("-0")}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": "0.000000009"}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": "1e-9"}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": Decimal("1E-9")}, "orderAmount", "must be at least 0.00000001"),
    bad({"orderAmount": "1.123456789"}, "orderAmount", "at most 8 decimal places"),
    bad({"orderAmount": "1.5e-9"}, "orderAmount", "at least"),
    bad({"orderAmount": "12.34567891e-1"}, "orderAmount", "at most 8 decimal places"),
    bad({"orderAmount": 0.1 + 0.2}, "orderAmount", "at most 8 decimal places"),
    bad({"orderAmount": float("nan")}, "orderAmount", "must be a finite number"),
    bad({"orderAmount": float("inf")}, "orderAmount", "must be a finite number"),
    bad({"orderAmount": "NaN"}, "orderAmount", "must be a finite number"),
    bad({"orderAmount": "Infinity"}, "orderAmount", "must be a finite number"),
    bad({"orderAmount": Decimal("NaN")}, "orderAmount", "must be a finite number"),
    bad({"orderAmount": "1e20"}, "orderAmount", "must be at most 100000000000"),
    bad({"orderAmount": Decimal("1E+20")}, "orderAmount", "must be at most 100000000000"),
    bad({"orderAmount": 10**12}, "orderAmount", "must be at most 100000000000 (Binance maximum)"),
    bad({"orderAmount": 10**11 + 1}, "orderAmount", "must be at most 100000000000"),
    bad({"orderAmount": "100000000000.00000001"}, "orderAmount", "must be at most 100000000000"),
    bad({"orderAmount": "+1.50"}, "orderAmount", "must not have a leading '+'"),
    bad({"orderAmount": "1,50"}, "orderAmount", "'.' as the decimal separator"),
    bad({"orderAmount": "1,000.50"}, "orderAmount", "decimal separator"),
    bad({"orderAmount": "01.50"}, "orderAmount", "must not have leading zeros"),
    bad({"orderAmount": " 1.50"}, "orderAmount", "must not contain spaces"),
    bad({"orderAmount": ".5"}, "orderAmount", 'decimal number such as "25.17"'),
    bad({"orderAmount": "5."}, "orderAmount", "decimal number"),
    bad({"orderAmount": "1_000"}, "orderAmount", "decimal number"),
    bad({"orderAmount": "0x10"}, "orderAmount", "decimal number"),
    bad({"orderAmount": "\u0661\u0662"}, "orderAmount", "decimal number"),
    bad({"orderAmount": ""}, "orderAmount", "is required together with currency"),  # "" = absent
    bad({"orderAmount": "9" * 100}, "orderAmount", "too long"),
    bad({"orderAmount": True}, "orderAmount", "not a boolean"),
    bad({"orderAmount": [25]}, "orderAmount", "must be a number or a decimal string"),
    bad({"orderAmount": {"value": 25}}, "orderAmount", "must be a number or a decimal string"),
    # currency: upper-case crypto from SUPPORTED_CRYPTO; fiat refused
    bad({"currency": "usdt"}, "currency", 'must be upper case ("USDT")'),
    bad({"currency": "DOGE"}, "currency", "must be one of BNB, BTC, BUSD"),
    bad({"currency": "USD"}, "currency", "fiat is not accepted here"),
    bad({"currency": "hkd"}, "currency", "fiat is not accepted here"),
    bad({"currency": 1}, "currency", "must be a string"),
    # fiatCurrency: upper-case ISO 4217 from SUPPORTED_FIAT; crypto refused
    bad(_drop_crypto(fiatAmount="100", fiatCurrency="hkd"), "fiatCurrency", "upper case"),
    bad(_drop_crypto(fiatAmount="100", fiatCurrency="XXX"), "fiatCurrency", "supported fiat"),
    bad(_drop_crypto(fiatAmount="100", fiatCurrency="USDT"), "fiatCurrency", "crypto is not"),
    bad(_drop_crypto(fiatAmount="0", fiatCurrency="USD"), "fiatAmount", "at least 0.00000001"),
    bad(_drop_crypto(fiatAmount=0.1 + 0.7, fiatCurrency="USD"), "fiatAmount", "8 decimal"),
    # exactly one pair; both halves together
    bad({"currency": DELETE}, "currency", "is required together with orderAmount"),
    bad({"orderAmount": DELETE}, "orderAmount", "is required together with currency"),
    bad({"currency": None}, "currency", "is required together with orderAmount"),
    bad(_drop_crypto(fiatAmount="100"), "fiatCurrency", "is required together with fiatAmount"),
    bad(_drop_crypto(fiatCurrency="USD"), "fiatAmount", "is required together with fiatCurrency"),
    bad({"fiatAmount": "1", "fiatCurrency": "USD"}, "fiatCurrency", "orderAmount+currency or"),
    bad({"fiatAmount": "1"}, "fiatAmount", "give either orderAmount+currency or fiatAmount+"),
    bad(
        _drop_crypto(),
        "currency",
        "one of orderAmount+currency or fiatAmount+fiatCurrency is required",
    ),
    bad(
        {"orderAmount": DELETE, "currency": None, "fiatCurrency": None},
        "currency",
        "one of orderAmount+currency or fiatAmount+fiatCurrency is required",
    ),
    # goods
    bad({"goods": DELETE}, "goods", "is required"),
    # goods is optional now (goodsDetails may replace it): null means absent, and one is required.
    bad({"goods": None}, "goods", "is required (or goodsDetails"),
    bad({"goods": [{"goodsName": "x"}]}, "goods", "must be a JSON object, not an array"),
    bad({"goods.goodsType": "03"}, "goods.goodsType", "must be one of 01, 02"),
    bad({"goods.goodsType": 1}, "goods.goodsType", "must be a string, not an integer"),
    bad({"goods.goodsType": DELETE}, "goods.goodsType", "is required"),
    bad({"goods.goodsCategory": "G000"}, "goods.goodsCategory", "must be one of 0000, 1000"),
    bad({"goods.goodsCategory": "d000"}, "goods.goodsCategory", "must be upper case"),
    bad({"goods.goodsCategory": DELETE}, "goods.goodsCategory", "is required"),
    bad({"goods.referenceGoodsId": DELETE}, "goods.referenceGoodsId", "is required"),
    bad({"goods.referenceGoodsId": ""}, "goods.referenceGoodsId", "must not be blank"),
    bad({"goods.referenceGoodsId": "R" * 65}, "goods.referenceGoodsId", "at most 64 characters"),
    bad({"goods.referenceGoodsId": "A\u200bB"}, "goods.referenceGoodsId", "printable"),
    bad({"goods.referenceGoodsId": "A\x00B"}, "goods.referenceGoodsId", "control characters"),
    bad({"goods.goodsName": DELETE}, "goods.goodsName", "is required"),
    bad({"goods.goodsName": None}, "goods.goodsName", "must not be null"),
    bad({"goods.goodsName": "   "}, "goods.goodsName", "must not be blank"),
    bad({"goods.goodsName": "x" * 257}, "goods.goodsName", "must be at most 256 characters"),
    bad({"goods.goodsName": "\U00020000" * 129}, "goods.goodsName", "at most 256 characters"),
    bad({"goods.goodsName": 'Ice "Cream"'}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Ice\\Cream"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Ice Cream \U0001f366"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Love \u2764"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Star \u2605"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Coffee \u2615"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Watch \u231a"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Arrow \u2194\ufe0f"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Key #\ufe0f\u20e3"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "HK \U0001f1ed\U0001f1f0"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Thumb \U0001f44d\U0001f3fd"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Family \U0001f468\u200d\U0001f469"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Tea \u200d cup"}, "goods.goodsName", GOODS_NAME),
    # Binance refuses every ZWJ in goodsName, even between letters (tests/contract)
    bad({"goods.goodsName": "\u0915\u094d\u200d\u0937"}, "goods.goodsName", GOODS_NAME),
    bad({"goods.goodsName": "Key \u2318"}, "goods.goodsName", GOODS_NAME),  # U+2300 block
    bad({"goods.goodsName": "Arrow \u2b95"}, "goods.goodsName", GOODS_NAME),  # U+2B00 block
    bad({"goods.goodsName": "Wales \U0001f3f4\U000e0067\U000e0062"}, "goods.goodsName", "emoji"),
    bad({"goods.goodsName": "Tea\x00"}, "goods.goodsName", "must not contain control characters"),
    bad({"goods.goodsName": "Tea\ncup"}, "goods.goodsName", "control characters (found U+000A)"),
    bad({"goods.goodsName": "Tea\x7f"}, "goods.goodsName", "control characters"),
    bad({"goods.goodsName": "Tea\x85cup"}, "goods.goodsName", "control characters"),
    bad({"goods.goodsName": "Tea\u2028cup"}, "goods.goodsName", "control characters"),
    bad({"goods.goodsName": "invoice\u202egpj.exe"}, "goods.goodsName", "bidirectional"),
    bad({"goods.goodsName": "a\u2066b\u2069"}, "goods.goodsName", "bidirectional"),
    bad({"goods.goodsName": "Tea\ud800"}, "goods.goodsName", "valid Unicode"),
    bad({"goods.goodsName": 42}, "goods.goodsName", "must be a string, not an integer"),
    bad({"goods.goodsName": {"en": "Tea"}}, "goods.goodsName", "must be a string, not an object"),
    bad({"goods.goodsDetail": "d" * 257}, "goods.goodsDetail", "must be at most 256 characters"),
    bad({"goods.goodsDetail": "Yummy \U0001f60b"}, "goods.goodsDetail", "must not contain emoji"),
    bad({"goods.goodsDetail": "line\x1bcode"}, "goods.goodsDetail", "control characters"),
    bad({"goods.goodsDetail": "a\u202db"}, "goods.goodsDetail", "bidirectional"),
    bad({"goods.goodsUnitAmount": "2.50"}, "goods.goodsUnitAmount", "must be a JSON object"),
    bad({"goods.goodsUnitAmount": {"amount": "2.5"}}, "goods.goodsUnitAmount.currency", "is req"),
    bad({"goods.goodsUnitAmount": {"currency": "USD"}}, "goods.goodsUnitAmount.amount", "is req"),
    bad(
        {"goods.goodsUnitAmount": {"currency": "usd", "amount": "2.5"}},
        "goods.goodsUnitAmount.currency",
        "must be upper case",
    ),
    bad(
        {"goods.goodsUnitAmount": {"currency": "ABC", "amount": "2.5"}},
        "goods.goodsUnitAmount.currency",
        "supported crypto or fiat currency",
    ),
    bad(
        {"goods.goodsUnitAmount": {"currency": "USD", "amount": "2.123456789"}},
        "goods.goodsUnitAmount.amount",
        "at most 8 decimal places",
    ),
    bad(
        {"goods.goodsUnitAmount": {"currency": "USD", "amount": "1", "fee": "1"}},
        "goods.goodsUnitAmount.fee",
        "unknown field",
    ),
    bad({"goods.goodsQuantity": 0}, "goods.goodsQuantity", "whole number from 1 to 999999999"),
    bad({"goods.goodsQuantity": "0"}, "goods.goodsQuantity", "whole number from 1"),
    bad({"goods.goodsQuantity": "01"}, "goods.goodsQuantity", "whole number from 1"),
    bad({"goods.goodsQuantity": "1.5"}, "goods.goodsQuantity", "whole number from 1"),
    bad({"goods.goodsQuantity": -2}, "goods.goodsQuantity", "whole number from 1"),
    bad({"goods.goodsQuantity": "1234567890"}, "goods.goodsQuantity", "whole number from 1"),
    bad({"goods.goodsQuantity": Decimal("2.0")}, "goods.goodsQuantity", "must be a whole number"),
    bad({"goods.goodsQuantity": True}, "goods.goodsQuantity", "must be a whole number"),
    bad({"goods.totalFee": "0.01"}, "goods.totalFee", "unknown field"),
    # shipping
    bad({"shipping": "Main St 1"}, "shipping", "must be a JSON object, not a string"),
    bad({"shipping.shippingName": {"lastName": "Doe"}}, "shipping.shippingName.firstName", "is r"),
    bad({"shipping.shippingName": {"firstName": "J"}}, "shipping.shippingName.lastName", "is r"),
    bad(
        {"shipping.shippingName": {"firstName": "J" * 129, "lastName": "D"}},
        "shipping.shippingName.firstName",
        "must be at most 128 characters",
    ),
    bad(
        {"shipping.shippingName": {"firstName": "Jo\x07", "lastName": "D"}},
        "shipping.shippingName.firstName",
        "control characters",
    ),
    bad({"shipping.shippingAddress": {}}, "shipping.shippingAddress.region", "is required"),
    bad({"shipping.shippingAddress.region": None}, "shipping.shippingAddress.region", "not be nu"),
    bad({"shipping.shippingAddress.region": "de"}, "shipping.shippingAddress.region", "upper ca"),
    bad({"shipping.shippingAddress.region": "UK"}, "shipping.shippingAddress.region", "ISO 3166"),
    bad({"shipping.shippingAddress.region": "XK"}, "shipping.shippingAddress.region", "ISO 3166"),
    bad({"shipping.shippingAddress.region": "USA"}, "shipping.shippingAddress.region", "alpha-2"),
    bad(
        {"shipping.shippingAddress": {"region": "US", "shippingAddressType": "05"}},
        "shipping.shippingAddress.shippingAddressType",
        "must be one of 01, 02, 03, 04",
    ),
    bad(
        {"shipping.shippingAddress": {"region": "US", "zipCode": "!!"}},
        "shipping.shippingAddress.zipCode",
        "letters, digits, spaces and hyphens",
    ),
    bad(
        {"shipping.shippingAddress": {"region": "US", "state": "S" * 257}},
        "shipping.shippingAddress.state",
        "at most 256 characters",
    ),
    bad(
        {"shipping.shippingAddress": {"region": "US", "address": "Main\x00St"}},
        "shipping.shippingAddress.address",
        "control characters",
    ),
    bad({"shipping.shippingPhoneNo": "call me"}, "shipping.shippingPhoneNo", "phone number"),
    bad({"shipping.shippingPhoneNo": "1" * 33}, "shipping.shippingPhoneNo", "at most 32"),
    bad({"shipping.paidAt": 1}, "shipping.paidAt", "unknown field"),
    # buyer
    bad({"buyer": ["x"]}, "buyer", "must be a JSON object, not an array"),
    bad({"buyer.buyerName": {"firstName": "A"}}, "buyer.buyerName.lastName", "is required"),
    bad({"buyer.buyerEmail": "not-an-email"}, "buyer.buyerEmail", "valid email address"),
    bad({"buyer.buyerEmail": "a@b.c\x00"}, "buyer.buyerEmail", "control characters"),
    bad({"buyer.buyerEmail": "a@" + "b" * 250 + ".com"}, "buyer.buyerEmail", "at most 254"),
    bad({"buyer.buyerRegistrationTime": 1_700_000_000}, "buyer.buyerRegistrationTime", "millis"),
    bad(
        {"buyer.buyerRegistrationTime": NOW + 10 * 60 * 1000},
        "buyer.buyerRegistrationTime",
        "must not be in the future",
    ),
    bad(
        {"buyer.buyerRegistrationTime": str(NOW - DAY)},
        "buyer.buyerRegistrationTime",
        "must be an integer number of epoch milliseconds",
    ),
    bad({"buyer.buyerRegistrationTime": 1.7e12}, "buyer.buyerRegistrationTime", "integer"),
    bad({"buyer.buyerRegistrationTime": True}, "buyer.buyerRegistrationTime", "integer"),
    bad({"buyer.buyerPhoneCountryCode": "12345"}, "buyer.buyerPhoneCountryCode", "1 to 4 digits"),
    bad({"buyer.buyerPhoneCountryCode": "US"}, "buyer.buyerPhoneCountryCode", "calling code"),
    bad({"buyer.buyerPhoneNo": "abc"}, "buyer.buyerPhoneNo", "phone number"),
    bad({"buyer.buyerBrowserLanguage": "English (US)"}, "buyer.buyerBrowserLanguage", "language"),
    bad({"buyer.buyerBrowserLanguage": "e"}, "buyer.buyerBrowserLanguage", "language tag"),
    bad({"buyer.referenceBuyerId": "a b"}, "buyer.referenceBuyerId", "visible ASCII"),
    bad({"buyer.referenceBuyerId": "1" * 65}, "buyer.referenceBuyerId", "at most 64"),
    bad({"buyer.isStaff": True}, "buyer.isStaff", "unknown field"),
    # merchant.subMerchantId: string(19], digits
    bad({"merchant": "123"}, "merchant", "must be a JSON object"),
    bad({"merchant.subMerchantId": "12a"}, "merchant.subMerchantId", "only digits"),
    bad({"merchant.subMerchantId": "1" * 20}, "merchant.subMerchantId", "at most 19 characters"),
    bad({"merchant.subMerchantId": 123}, "merchant.subMerchantId", "must be a string"),
    bad({"merchant.merchantId": "1"}, "merchant.merchantId", "unknown field"),
    # returnUrl / cancelUrl: begin with http, string(256], one query parameter, public host
    bad({"returnUrl": "javascript:alert(1)"}, "returnUrl", "must start with http:// or https://"),
    bad({"returnUrl": "ftp://example.com/x"}, "returnUrl", "http:// or https://"),
    bad({"returnUrl": "example.com/done"}, "returnUrl", "http:// or https://"),
    bad(
        {"returnUrl": "https://example.com/search?q=apples&p=orange"},
        "returnUrl",
        "must have at most one query parameter (Binance rule",
    ),
    bad({"returnUrl": "https://example.com/?q=1&&r=2"}, "returnUrl", "one query parameter"),
    bad({"returnUrl": LONG_URL}, "returnUrl", "must be at most 256 characters"),
    bad({"returnUrl": "https://user:pw@example.com/"}, "returnUrl", "user credentials"),
    bad({"returnUrl": "https://127.0.0.1/done"}, "returnUrl", "not a public address (loopback)"),
    bad({"returnUrl": "https://0x7f000001/done"}, "returnUrl", "loopback"),
    bad({"returnUrl": "https://shop.internal/done"}, "returnUrl", "internal name"),
    bad({"returnUrl": "https://exa mple.com/"}, "returnUrl", "spaces"),
    bad({"returnUrl": "https://"}, "returnUrl", "must have a host"),
    bad({"returnUrl": 5}, "returnUrl", "must be a string"),
    bad({"cancelUrl": "http://169.254.169.254/latest"}, "cancelUrl", "link-local"),
    bad({"cancelUrl": "https://example.com/c?a=1&b=2"}, "cancelUrl", "one query parameter"),
    bad({"cancelUrl": "data:text/html,hi"}, "cancelUrl", "http:// or https://"),
    # notifyUrl (ours, fetched server-side): http(s), 512, SSRF
    bad({"notifyUrl": "http://localhost:8000/hook"}, "notifyUrl", "internal name"),
    bad({"notifyUrl": "http://[::ffff:10.0.0.1]/hook"}, "notifyUrl", "private"),
    bad({"notifyUrl": "http://2130706433/hook"}, "notifyUrl", "loopback"),
    bad({"notifyUrl": "http://redis:6379/"}, "notifyUrl", "fully qualified"),
    bad({"notifyUrl": "gopher://example.com/"}, "notifyUrl", "http:// or https://"),
    bad({"notifyUrl": "https://example.com/" + "h" * 493}, "notifyUrl", "at most 512 characters"),
    # customerRef (ours): 1..64 of letters, digits and . _ : @ -
    bad({"customerRef": ""}, "customerRef", "must not be blank"),
    bad({"customerRef": "c" * 65}, "customerRef", "must be at most 64 characters"),
    bad({"customerRef": "user#1"}, "customerRef", "only letters, digits and . _ : @ -"),
    bad({"customerRef": "\u7528\u6237"}, "customerRef", "only letters, digits"),
    # orderExpireTime: absolute epoch ms in (now + 60 s, now + 15 days]
    bad({"orderExpireTime": NOW - 1000}, "orderExpireTime", "more than 60 seconds in the future"),
    bad({"orderExpireTime": NOW + 60_000}, "orderExpireTime", "more than 60 seconds"),
    bad({"orderExpireTime": NOW + 15 * DAY + 1}, "orderExpireTime", "at most 15 days"),
    bad({"orderExpireTime": (NOW + DAY) // 1000}, "orderExpireTime", "epoch milliseconds"),
    bad({"orderExpireTime": 3_600_000}, "orderExpireTime", "milliseconds"),
    bad({"orderExpireTime": str(NOW + DAY)}, "orderExpireTime", "must be an integer"),
    bad({"orderExpireTime": float(NOW + DAY)}, "orderExpireTime", "must be an integer"),
    bad({"orderExpireTime": True}, "orderExpireTime", "must be an integer"),
    # supportPayCurrency: string(1024], comma-separated upper-case codes
    bad({"supportPayCurrency": "busd,bnb"}, "supportPayCurrency", "comma-separated upper-case"),
    bad({"supportPayCurrency": "BUSD, BNB"}, "supportPayCurrency", "comma-separated"),
    bad({"supportPayCurrency": "BUSD,,BNB"}, "supportPayCurrency", "comma-separated"),
    bad({"supportPayCurrency": "BNB,BNB"}, "supportPayCurrency", "twice"),
    bad({"supportPayCurrency": "ABCD," * 205}, "supportPayCurrency", "at most 1024"),
    # appId: required with MINI_PROGRAM
    bad({"env.terminalType": "MINI_PROGRAM"}, "appId", "is required when env.terminalType is MI"),
    bad({"env.terminalType": "MINI_PROGRAM", "appId": None}, "appId", "is required when"),
    bad({"appId": "app id"}, "appId", "visible ASCII"),
    bad({"appId": "a" * 65}, "appId", "at most 64 characters"),
    # universalUrlAttach string(120), passThroughInfo string(512]
    bad({"universalUrlAttach": "u" * 121}, "universalUrlAttach", "at most 120 characters"),
    bad({"universalUrlAttach": "a=1 b=2"}, "universalUrlAttach", "visible ASCII"),
    bad({"passThroughInfo": "p" * 513}, "passThroughInfo", "must be at most 512 characters"),
    bad({"passThroughInfo": "a\x00b"}, "passThroughInfo", "control characters"),
    bad({"passThroughInfo": "a\u202eb"}, "passThroughInfo", "bidirectional"),
    # orderTags
    bad({"orderTags": []}, "orderTags", "must be a JSON object, not an array"),
    bad({"orderTags.ifProfitSharing": "true"}, "orderTags.ifProfitSharing", "true or false"),
    bad({"orderTags.ifProfitSharing": 1}, "orderTags.ifProfitSharing", "true or false"),
    bad({"orderTags.status": "PAID"}, "orderTags.status", "unknown field"),
    # webhookUrl is set by paysvc, never by merchants; directDebitContract is not supported
    bad({"webhookUrl": "https://example.com/wh"}, "webhookUrl", "unknown field (webhookUrl is"),
    bad({"directDebitContract": {}}, "directDebitContract", "unknown field (direct debit"),
]


@pytest.mark.parametrize(("changes", "at", "fragment"), BAD_FIELDS)
def test_bad_value_is_refused_at_its_path_with_a_message_naming_the_rule(changes, at, fragment):
    errors = errors_of(crypto_order(changes))

    assert set(errors) == {at}, errors
    assert any(fragment in message for message in errors[at]), errors[at]


GOOD_FIELDS = [
    good({"merchantTradeNo": "A" * 32}, "merchantTradeNo"),
    good({"merchantTradeNo": "abc123XYZ"}, "merchantTradeNo"),
    good({"merchantTradeNo": DELETE}, "merchantTradeNo", ABSENT),
    good({"merchantTradeNo": None}, "merchantTradeNo", ABSENT),
    good({"env.osType": "ANDROID"}, "env.osType"),
    good({"env.orderClientIp": "203.0.113.7"}, "env.orderClientIp"),
    good({"env.orderClientIp": "10.0.0.1"}, "env.orderClientIp"),  # the buyer's, never called
    good({"env.orderClientIp": "2001:DB8::1"}, "env.orderClientIp", "2001:db8::1"),
    good({"env.cookieId": "s%3AabcDEF.123-_~"}, "env.cookieId"),
    good({"env.cookieId": "c" * 128}, "env.cookieId"),
    good({"orderAmount": "10.00"}, "orderAmount", Decimal("10.00")),
    good({"orderAmount": 25}, "orderAmount", Decimal(25)),
    good({"orderAmount": "0.00000001"}, "orderAmount", AMOUNT_MIN),
    good({"orderAmount": "1E-8"}, "orderAmount", AMOUNT_MIN),
    good({"orderAmount": "1E+2"}, "orderAmount", Decimal(100)),
    good({"orderAmount": Decimal("1E+2")}, "orderAmount", Decimal(100)),
    good({"orderAmount": "1.000000000"}, "orderAmount", Decimal("1.00000000")),
    good({"orderAmount": 25.17}, "orderAmount", Decimal("25.17")),
    good({"orderAmount": "0.5"}, "orderAmount", Decimal("0.5")),
    good({"orderAmount": "99999999999.99999999"}, "orderAmount", Decimal("99999999999.99999999")),
    good({"orderAmount": 10**11}, "orderAmount", Decimal(10**11)),
    good({"returnUrl": "https://example.com/?q=1&"}, "returnUrl"),  # one parameter, as Binance
    good({"env.osType": ""}, "env.osType", ABSENT),  # "" means absent, as at Binance
    good({"buyer.buyerEmail": ""}, "buyer.buyerEmail", ABSENT),
    good({"orderAmount": "9999999999.99999999"}, "orderAmount", Decimal("9999999999.99999999")),
    good({"goods.goodsType": "02"}, "goods.goodsType"),
    good({"goods.referenceGoodsId": "SKU 12/34-\u00e9"}, "goods.referenceGoodsId"),
    good({"goods.referenceGoodsId": "R" * 64}, "goods.referenceGoodsId"),
    good({"goods.goodsName": "  Ice Cream  "}, "goods.goodsName", "Ice Cream"),
    good({"goods.goodsName": "Cr\u00e8me br\u00fbl\u00e9e"}, "goods.goodsName"),
    good({"goods.goodsName": "\u62b9\u8336\u30a2\u30a4\u30b9"}, "goods.goodsName"),
    good({"goods.goodsName": "Brand\u00ae Tea\u2122 \u00a9 2025"}, "goods.goodsName"),
    good({"goods.goodsName": "Ice-Cream (2 pcs) 50% off, 'best' & <new>"}, "goods.goodsName"),
    good({"goods.goodsDetail": "\u0915\u094d\u200d\u0937"}, "goods.goodsDetail"),  # Devanagari ZWJ
    good({"goods.goodsName": "x" * 256}, "goods.goodsName"),
    good({"goods.goodsName": "\U00020000" * 128}, "goods.goodsName"),  # 256 UTF-16 units
    good({"goods.goodsDetail": 'Greentea "matcha" cone \\ 2'}, "goods.goodsDetail"),
    good({"goods.goodsDetail": ""}, "goods.goodsDetail", ABSENT),
    good({"goods.goodsDetail": DELETE}, "goods.goodsDetail", ABSENT),
    good({"goods.goodsDetail": "d" * 256}, "goods.goodsDetail"),
    good(
        {"goods.goodsUnitAmount": {"currency": "USD", "amount": "2.50"}},
        "goods.goodsUnitAmount",
        {"currency": "USD", "amount": Decimal("2.50")},
    ),
    good(
        {"goods.goodsUnitAmount": {"currency": "USDT", "amount": Decimal("0.1")}},
        "goods.goodsUnitAmount.amount",
        Decimal("0.1"),
    ),
    good({"goods.goodsQuantity": 3}, "goods.goodsQuantity", "3"),
    good({"goods.goodsQuantity": "12"}, "goods.goodsQuantity"),
    good({"goods.goodsQuantity": "999999999"}, "goods.goodsQuantity"),
    good(
        {"shipping.shippingName": {"firstName": "Mar\u00eda", "middleName": "", "lastName": "D"}},
        "shipping.shippingName",
        {"firstName": "Mar\u00eda", "lastName": "D"},
    ),
    good({"shipping.shippingAddress": {"region": "GB"}}, "shipping.shippingAddress.region"),
    good(
        {"shipping.shippingAddress": {"region": "HK", "zipCode": "SW1A 1AA"}},
        "shipping.shippingAddress.zipCode",
    ),
    good(
        {"shipping.shippingAddress": {"region": "US", "shippingAddressType": "04"}},
        "shipping.shippingAddress.shippingAddressType",
    ),
    good({"shipping.shippingPhoneNo": "+1 (555) 010-0000 ext. 12"}, "shipping.shippingPhoneNo"),
    good({"shipping": None}, "shipping", ABSENT),
    good({"buyer.buyerEmail": "buyer@example.com"}, "buyer.buyerEmail"),
    good({"buyer.buyerRegistrationTime": NOW - DAY}, "buyer.buyerRegistrationTime"),
    good({"buyer.buyerRegistrationTime": NOW + 30_000}, "buyer.buyerRegistrationTime"),
    good({"buyer.buyerPhoneCountryCode": "+852"}, "buyer.buyerPhoneCountryCode"),
    good({"buyer.buyerPhoneNo": "91234567"}, "buyer.buyerPhoneNo"),
    good({"buyer.buyerBrowserLanguage": "en-US"}, "buyer.buyerBrowserLanguage"),
    good({"buyer.buyerBrowserLanguage": "zh_CN"}, "buyer.buyerBrowserLanguage"),
    good({"buyer.referenceBuyerId": "354205155"}, "buyer.referenceBuyerId"),
    good({"buyer.buyerName": {"firstName": "A", "lastName": "B"}}, "buyer.buyerName"),
    good({"merchant.subMerchantId": "1" * 19}, "merchant.subMerchantId"),
    good({"returnUrl": "https://example.com/search?q=apples"}, "returnUrl"),
    good({"returnUrl": "http://shop.example.com/thanks"}, "returnUrl"),
    good({"returnUrl": "https://example.com/" + "a" * 236}, "returnUrl"),  # 256
    good({"cancelUrl": "https://shop.example.com/cart#retry"}, "cancelUrl"),
    good({"notifyUrl": "https://merchant.example.com/hooks/bp?a=1&b=2"}, "notifyUrl"),
    good({"notifyUrl": "https://93.184.216.34/hook"}, "notifyUrl"),
    good({"customerRef": "user.42:eu@shop-1_a"}, "customerRef"),
    good({"orderExpireTime": NOW + 60_001}, "orderExpireTime"),
    good({"orderExpireTime": NOW + 3_600_000}, "orderExpireTime"),
    good({"orderExpireTime": NOW + 15 * DAY}, "orderExpireTime"),
    good({"supportPayCurrency": "BUSD,BNB"}, "supportPayCurrency"),
    good({"supportPayCurrency": "USDT"}, "supportPayCurrency"),
    good({"env.terminalType": "MINI_PROGRAM", "appId": "wx1234abcd"}, "appId"),
    good({"appId": "wx1234abcd"}, "appId"),  # allowed, if unused, for other terminals
    good({"universalUrlAttach": "countryCode=1&phone=1234567"}, "universalUrlAttach"),
    good({"universalUrlAttach": "u" * 120}, "universalUrlAttach"),
    good({"passThroughInfo": '{"cart":"A1","note":"gift \\"wrap\\""}'}, "passThroughInfo"),
    good({"passThroughInfo": "p" * 512}, "passThroughInfo"),
    good({"orderTags.ifProfitSharing": False}, "orderTags.ifProfitSharing"),
    good({"orderTags": {}}, "orderTags", {}),
]


@pytest.mark.parametrize(("changes", "path", "expected"), GOOD_FIELDS)
def test_good_value_is_accepted_and_comes_out_ready_to_send(changes, path, expected):
    data = validated(crypto_order(changes))

    value = get_path(data, path)
    if expected is None:
        expected = get_path(crypto_order(changes), path)
    assert value == expected
    if isinstance(expected, Decimal):
        assert str(value) == str(expected)  # exact, same places


@pytest.mark.parametrize("terminal_type", sorted(set(TERMINAL_TYPES) - {"MINI_PROGRAM"}))
def test_every_terminal_type_is_accepted(terminal_type):
    assert validated(crypto_order({"env.terminalType": terminal_type}))["env"] == {
        "terminalType": terminal_type
    }


@pytest.mark.parametrize("category", GOODS_CATEGORIES)
def test_every_goods_category_from_seed_004_is_accepted(category):
    assert validated(crypto_order({"goods.goodsCategory": category}))["goods"]["goodsCategory"] == (
        category
    )


def test_goods_categories_are_the_full_seed_list():
    assert (*(f"{c}000" for c in "0123456789ABCDEF"), "Z000") == GOODS_CATEGORIES


@pytest.mark.parametrize("currency", sorted(SUPPORTED_CRYPTO))
def test_every_supported_crypto_is_accepted_as_order_currency(currency):
    assert validated(crypto_order({"currency": currency}))["currency"] == currency


@pytest.mark.parametrize("currency", sorted(SUPPORTED_FIAT))
def test_every_supported_fiat_is_accepted_as_fiat_currency(currency):
    data = validated(crypto_order(_drop_crypto(fiatAmount="10", fiatCurrency=currency)))

    assert data["fiatCurrency"] == currency


def test_currency_lists_do_not_overlap_and_are_upper_case():
    assert not SUPPORTED_CRYPTO & SUPPORTED_FIAT
    assert {"USDT", "USDC", "BUSD", "FDUSD", "BNB", "BTC", "ETH", "MBOX"} <= SUPPORTED_CRYPTO
    assert {"USD", "EUR", "GBP", "HKD", "JPY", "AUD", "CAD", "CHF", "SGD", "TRY", "BRL"} <= (
        SUPPORTED_FIAT
    )
    assert all(code.isupper() and len(code) == 3 for code in SUPPORTED_FIAT)


def test_region_list_is_the_official_iso_3166_alpha2_list():
    assert len(ISO_3166_ALPHA2) == 249
    assert {"US", "GB", "HK", "DE", "AX", "SS", "BQ", "CW", "SX"} <= ISO_3166_ALPHA2
    assert not {"UK", "XK", "EU", "AN"} & ISO_3166_ALPHA2


# --- whole bodies ----------------------------------------------------------------------------


def test_binance_crypto_sample_body_is_valid_and_ready_to_send():
    data = validated(load(CRYPTO_SAMPLE))

    assert data == {
        "env": {"terminalType": "APP"},
        "orderTags": {"ifProfitSharing": True},
        "merchantTradeNo": "9825382937292",
        "orderAmount": Decimal("25.17"),
        "currency": "USDT",
        "goods": {
            "goodsType": "01",
            "goodsCategory": "D000",
            "referenceGoodsId": "7876763A3B",
            "goodsName": "Ice Cream",
            "goodsDetail": "Greentea ice cream cone",
        },
    }


def test_binance_fiat_sample_body_is_valid():
    data = validated(load(FIAT_SAMPLE))

    assert data["fiatAmount"] == Decimal(100)
    assert data["fiatCurrency"] == "HKD"
    assert "orderAmount" not in data
    assert "currency" not in data


def test_samples_parsed_with_plain_floats_give_the_same_decimals():
    assert validated(json.loads(CRYPTO_SAMPLE))["orderAmount"] == Decimal("25.17")
    assert validated(json.loads(FIAT_SAMPLE))["fiatAmount"] == Decimal("100")


def test_seed_003_one_dollar_fiat_checkout_is_valid():
    body = load(
        """{"env": {"terminalType": "WEB"}, "fiatAmount": 1.00, "fiatCurrency": "USD",
        "goods": {"goodsType": "02", "goodsCategory": "Z000", "referenceGoodsId": "booking1",
                  "goodsName": "LeadsCalendar booking"},
        "notifyUrl": "https://leadscalendar.example.com/binance/callback"}"""
    )

    data = validated(body)

    assert data["fiatAmount"] == Decimal("1.00")
    assert str(data["fiatAmount"]) == "1.00"
    assert data["fiatCurrency"] == "USD"
    assert data["notifyUrl"] == "https://leadscalendar.example.com/binance/callback"


def test_seed_003_placeholder_callback_host_is_refused_as_single_label():
    body = crypto_order({"notifyUrl": "https://your-callback-url"})

    assert "fully qualified" in errors_of(body)["notifyUrl"][0]


def test_a_full_body_round_trips_as_plain_dicts_in_binance_naming():
    body = crypto_order(
        {
            "env": {"terminalType": "WEB", "osType": "IOS", "orderClientIp": "198.51.100.7"},
            "goods.goodsUnitAmount": {"currency": "USDT", "amount": "12.50"},
            "goods.goodsQuantity": 2,
            "shipping": {
                "shippingName": {"firstName": "Ada", "lastName": "Lovelace"},
                "shippingAddress": {"region": "GB", "city": "London", "zipCode": "N1 9GU"},
                "shippingPhoneNo": "+44 20 7946 0000",
            },
            "buyer": {"buyerEmail": "ada@example.com", "buyerRegistrationTime": NOW - 10 * DAY},
            "merchant": {"subMerchantId": "987654321"},
            "returnUrl": "https://shop.example.com/ok?order=1",
            "cancelUrl": "https://shop.example.com/cancel",
            "notifyUrl": "https://api.shop.example.com/paysvc",
            "customerRef": "cust-42",
            "orderExpireTime": NOW + 3_600_000,
            "supportPayCurrency": "USDT,BNB",
            "universalUrlAttach": "countryCode=44",
            "passThroughInfo": "cart=77",
        }
    )

    data = validated(body)

    def assert_plain(node):
        assert type(node) is dict
        for value in node.values():
            assert not isinstance(value, float)
            if isinstance(value, dict):
                assert_plain(value)

    assert_plain(data)
    assert data["goods"]["goodsUnitAmount"] == {"currency": "USDT", "amount": Decimal("12.50")}
    assert data["goods"]["goodsQuantity"] == "2"
    assert data["shipping"]["shippingAddress"] == {
        "region": "GB",
        "city": "London",
        "zipCode": "N1 9GU",
    }
    assert set(data) == set(body)


def test_mini_program_with_app_id_is_valid():
    data = validated(crypto_order({"env.terminalType": "MINI_PROGRAM", "appId": "mp123"}))

    assert data["appId"] == "mp123"


# --- mass assignment and types ---------------------------------------------------------------

SERVER_SIDE_FIELDS = [
    "status",
    "prepayId",
    "totalFee",
    "transactionId",
    "paidAt",
    "createdAt",
    "openUserId",
    "checkoutUrl",
    "qrcodeLink",
    "expireTime",
    "refunds",
    "user",
    "is_staff",
    "application",
    "merchant_trade_no",
    "id",
]


@pytest.mark.parametrize("field", SERVER_SIDE_FIELDS)
def test_server_side_fields_cannot_be_set_by_input(field):
    errors = errors_of(crypto_order({field: "x"}))

    assert errors == {field: ["unknown field"]}


def test_nested_mass_assignment_is_refused_at_every_level():
    body = crypto_order(
        {"env.status": "PAID", "goods.prepayId": "1", "shipping.shippingAddress.amount": "0"}
    )
    body["shipping"]["shippingAddress"]["region"] = "US"

    errors = errors_of(body)

    assert errors == {
        "env.status": ["unknown field"],
        "goods.prepayId": ["unknown field"],
        "shipping.shippingAddress.amount": ["unknown field"],
    }


def test_all_errors_are_reported_together():
    body = crypto_order(
        {"status": "PAID", "goods.goodsName": "x" * 300, "currency": DELETE, "appId": "a b"}
    )

    errors = errors_of(body)

    assert set(errors) == {"status", "goods.goodsName", "currency", "appId"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "must be a JSON object, not an array"),
        ("order", "must be a JSON object, not a string"),
        (None, "must be a JSON object, not null"),
        (42, "must be a JSON object, not an integer"),
    ],
)
def test_a_body_that_is_not_an_object_is_a_clear_type_error(body, message):
    assert errors_of(body) == {"non_field_errors": [message]}


def test_validation_error_paths_come_out_dotted_never_only_non_field_errors():
    body = crypto_order({"goods.goodsName": "bad \\", "shipping.shippingAddress.region": "xx"})

    errors = errors_of(body)

    assert set(errors) == {"goods.goodsName", "shipping.shippingAddress.region"}


# --- URL setting ------------------------------------------------------------------------------


def test_private_urls_are_accepted_when_the_setting_allows_them(settings):
    settings.PAYSVC_ALLOW_PRIVATE_URLS = True
    body = crypto_order(
        {
            "returnUrl": "http://localhost:3000/done",
            "cancelUrl": "http://127.0.0.1:3000/cancel",
            "notifyUrl": "http://[::1]:9000/hooks",
        }
    )

    data = validated(body)

    assert data["notifyUrl"] == "http://[::1]:9000/hooks"


def test_allowing_private_urls_keeps_the_binance_url_rules(settings):
    settings.PAYSVC_ALLOW_PRIVATE_URLS = True
    body = crypto_order(
        {
            "returnUrl": "http://localhost:3000/done?a=1&b=2",
            "cancelUrl": "javascript:alert(1)",
            "notifyUrl": "http://user:pw@localhost/",
        }
    )

    assert set(errors_of(body)) == {"returnUrl", "cancelUrl", "notifyUrl"}


def test_private_urls_are_refused_when_the_setting_is_unset(settings):
    del settings.PAYSVC_ALLOW_PRIVATE_URLS

    errors = errors_of(crypto_order({"notifyUrl": "http://127.0.0.1:8000/hook"}))

    assert "loopback" in errors["notifyUrl"][0]


# --- amounts: property tests -----------------------------------------------------------------

VALID_AMOUNTS = st.decimals(
    min_value=AMOUNT_MIN,
    max_value=Decimal("9999999999.99999999"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)


@hypothesis_fixture_ok
@given(VALID_AMOUNTS)
def test_valid_amounts_round_trip_exactly_from_decimal_and_string(amount):
    for given_value in (amount, str(amount), format(amount, "f")):
        parsed = parse_amount(given_value)
        assert parsed == amount
        assert parsed.as_tuple() == Decimal(str(given_value)).as_tuple()


@hypothesis_fixture_ok
@given(
    unscaled=st.integers(min_value=1, max_value=10**18 - 1),
    places=st.integers(min_value=0, max_value=8),
)
def test_amounts_with_up_to_8_places_are_accepted_unchanged(unscaled, places):
    amount = Decimal(f"{unscaled}E-{places}")  # exact, no context rounding
    if amount > Decimal(10) ** 11 or amount < AMOUNT_MIN:
        return

    data = validated({"refundAmount": format(amount, "f")}, RefundRequestSerializer)

    assert data["refundAmount"] == amount
    assert format(data["refundAmount"], "f") == format(amount, "f")


@hypothesis_fixture_ok
@given(
    unscaled=st.integers(min_value=1, max_value=10**30).filter(lambda n: n % 10),
    places=st.integers(min_value=9, max_value=30),
)
def test_amounts_with_more_than_8_places_are_refused(unscaled, places):
    amount = Decimal(f"{unscaled}E-{places}")  # exact, no context rounding
    if amount < AMOUNT_MIN or amount > Decimal(10) ** 11:
        return

    with pytest.raises(AmountError, match="at most 8 decimal places"):
        parse_amount(format(amount, "f"))
    with pytest.raises(AmountError, match="at most 8 decimal places"):
        parse_amount(amount)


@hypothesis_fixture_ok
@given(st.floats(min_value=1e-8, max_value=1e11, allow_nan=False))
def test_floats_are_never_silently_rounded(number):
    try:
        parsed = parse_amount(number)
    except AmountError as exc:
        assert "decimal places" in str(exc) or "significant digits" in str(exc)
    else:
        assert parsed == Decimal(repr(number))


def test_binary_float_artefact_is_flagged_as_too_many_places():
    with pytest.raises(AmountError, match="at most 8 decimal places"):
        parse_amount(0.1 + 0.2)


# --- text hygiene: property tests ------------------------------------------------------------


@hypothesis_fixture_ok
@given(st.text(max_size=40))
def test_accepted_goods_names_contain_no_forbidden_character(name):
    serializer = CreateOrderSerializer(data=crypto_order({"goods.goodsName": name}))

    if serializer.is_valid():
        accepted = serializer.validated_data["goods"]["goodsName"]
        assert accepted and accepted == name.strip()
        assert not any(is_emoji(char) or char in '\\"' for char in accepted)
        assert unsafe_text_message(accepted) is None


@pytest.mark.parametrize(
    "char", ["\U0001f600", "\u2764", "\u2b50", "\ufe0f", "\u20e3", "\U0001f1fa", "\U000e0067"]
)
def test_emoji_definition_covers_pictographs_dingbats_and_components(char):
    assert is_emoji(char)


@pytest.mark.parametrize("char", ["a", "\u00e9", "\u00ae", "\u2122", "\u2192", "\u4e2d", "1"])
def test_emoji_definition_leaves_text_symbols_alone(char):
    assert not is_emoji(char)


# --- RefundRequestSerializer -----------------------------------------------------------------


def test_refund_request_minimal_and_full_are_valid():
    assert validated({"refundAmount": "5.00"}, RefundRequestSerializer) == {
        "refundAmount": Decimal("5.00")
    }
    full = {"refundAmount": 1, "refundReason": "damaged", "refundRequestId": "R" * 64}
    assert validated(full, RefundRequestSerializer) == {**full, "refundAmount": Decimal(1)}


@pytest.mark.parametrize(
    ("body", "at", "fragment"),
    [
        ({}, "refundAmount", "is required"),
        ({"refundAmount": None}, "refundAmount", "must not be null"),
        ({"refundAmount": "0"}, "refundAmount", "at least 0.00000001"),
        ({"refundAmount": "1.123456789"}, "refundAmount", "at most 8 decimal places"),
        ({"refundAmount": "1,5"}, "refundAmount", "decimal separator"),
        ({"refundAmount": 1, "refundReason": "r" * 257}, "refundReason", "at most 256"),
        ({"refundAmount": 1, "refundReason": "a\x00"}, "refundReason", "control characters"),
        ({"refundAmount": 1, "refundRequestId": "r-1"}, "refundRequestId", "letters and digits"),
        ({"refundAmount": 1, "refundRequestId": "r" * 65}, "refundRequestId", "at most 64"),
        ({"refundAmount": 1, "prepayId": "1"}, "prepayId", "unknown field"),
        ({"refundAmount": 1, "webhookUrl": "https://e.com"}, "webhookUrl", "unknown field"),
    ],
)
def test_refund_request_rules(body, at, fragment):
    errors = errors_of(body, RefundRequestSerializer)

    assert set(errors) == {at}, errors
    assert fragment in errors[at][0]


# --- AccountShareRequestSerializer -----------------------------------------------------------


def test_account_share_request_is_valid():
    body = {"customerRef": "user-1", "requestId": "abc123"}
    assert validated(body, AccountShareRequestSerializer) == body
    assert validated({"customerRef": "u"}, AccountShareRequestSerializer) == {"customerRef": "u"}


@pytest.mark.parametrize(
    ("body", "at", "fragment"),
    [
        ({}, "customerRef", "is required"),
        ({"customerRef": "a b"}, "customerRef", "only letters, digits"),
        ({"customerRef": "u", "requestId": "r" * 33}, "requestId", "at most 32 characters"),
        ({"customerRef": "u", "requestId": "req-1"}, "requestId", "letters and digits (Binance"),
        ({"customerRef": "u", "subMerchantId": "1"}, "subMerchantId", "unknown field"),
        ({"customerRef": "u", "webhookUrl": "https://e.com"}, "webhookUrl", "unknown field"),
    ],
)
def test_account_share_request_rules(body, at, fragment):
    errors = errors_of(body, AccountShareRequestSerializer)

    assert set(errors) == {at}, errors
    assert fragment in errors[at][0]


# --- OrderListFilterSerializer ---------------------------------------------------------------


def test_order_list_filter_reads_query_parameters():
    query = QueryDict(
        "status=PAID,EXPIRED,PAID&customerRef=u1&createdFrom=2025-01-01T00:00:00Z"
        "&createdTo=2025-01-31T23:59:59%2B02:00&pageSize=100&page=2"
    )

    data = validated(query, OrderListFilterSerializer)

    assert data["status"] == ["PAID", "EXPIRED"]
    assert data["customerRef"] == "u1"
    assert data["createdFrom"].isoformat() == "2025-01-01T00:00:00+00:00"
    assert data["createdTo"].utcoffset() is not None
    assert (data["pageSize"], data["page"]) == (100, 2)


def test_order_list_filter_accepts_no_parameters():
    assert validated(QueryDict(""), OrderListFilterSerializer) == {}


@pytest.mark.parametrize(
    ("query", "at", "fragment"),
    [
        ("status=PAID,SHIPPED", "status", "must be one of INITIAL, PENDING, PAID"),
        ("status=paid", "status", "must be one of"),
        ("status=", "status", "must be one of"),
        ("status=PAID&status=EXPIRED", "status", "must be given once"),
        ("customerRef=a%20b", "customerRef", "only letters, digits"),
        ("createdFrom=yesterday", "createdFrom", "ISO-8601"),
        (
            "createdFrom=2025-02-01T00:00:00Z&createdTo=2025-01-01T00:00:00Z",
            "createdTo",
            "must not be before createdFrom",
        ),
        ("pageSize=0", "pageSize", "must be at least 1"),
        ("pageSize=101", "pageSize", "must be at most 100"),
        ("pageSize=ten", "pageSize", "must be an integer"),
        ("page=0", "page", "must be at least 1"),
        ("sort=-createdAt", "sort", "unknown field"),
    ],
)
def test_order_list_filter_rules(query, at, fragment):
    errors = errors_of(QueryDict(query), OrderListFilterSerializer)

    assert set(errors) == {at}, errors
    assert fragment in errors[at][0]


# --- paysvc.exceptions.flatten_errors on serializer errors -------------------------------------


def test_flatten_errors_returns_plain_strings_from_a_serializer():
    errors = errors_of(crypto_order({"goods.goodsName": DELETE}))

    assert errors == {"goods.goodsName": ["is required"]}
    assert type(errors["goods.goodsName"][0]) is str
