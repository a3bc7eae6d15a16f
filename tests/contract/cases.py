"""Generated Create Order v2 bodies: a valid baseline plus a few mutations, each a field path and
a value drawn at and around that field's limits (both sides' limits), in many character classes
and JSON types; whole objects replaced, fields removed, unknown fields added.

The code lists are the union of paysvc's and the sandbox's, read from both, so that a code one
side knows and the other does not is always among the candidates.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from orders.validation import refdata as paysvc_refdata
from sandbox import refdata as sandbox_refdata
from tests.contract.harness import DAY, DELETE, NOW, Raw, dumps, set_path

CRYPTO = sorted(paysvc_refdata.SUPPORTED_CRYPTO | sandbox_refdata.ORDER_CURRENCIES)
FIAT = sorted(paysvc_refdata.SUPPORTED_FIAT | set(sandbox_refdata.FIAT_RATES))
CODES = sorted({*CRYPTO, *FIAT, "LTC", "XRP", "EUR", "ABC", "US", "USDTT"})
REGIONS = sorted(paysvc_refdata.ISO_3166_ALPHA2 | sandbox_refdata.REGIONS)

BASELINE: dict[str, Any] = {
    "env": {"terminalType": "WEB"},
    "orderAmount": "25.17",
    "currency": "USDT",
    "goods": {
        "goodsType": "02",
        "goodsCategory": "Z000",
        "referenceGoodsId": "sku001",
        "goodsName": "Ice Cream",
        "goodsDetail": "Greentea ice cream cone",
    },
}
# Every optional part filled with a valid value.
RICH: dict[str, Any] = {
    "env": {
        "terminalType": "APP",
        "osType": "IOS",
        "orderClientIp": "8.8.8.8",
        "cookieId": "session-abc123",
    },
    "merchantTradeNo": "9825382937292",
    "orderAmount": "25.17",
    "currency": "USDT",
    "goods": {
        "goodsType": "01",
        "goodsCategory": "D000",
        "referenceGoodsId": "7876763A3B",
        "goodsName": "Ice Cream",
        "goodsDetail": "Greentea ice cream cone",
        "goodsUnitAmount": {"currency": "USDT", "amount": "25.17"},
        "goodsQuantity": "1",
    },
    "shipping": {
        "shippingName": {"firstName": "Ada", "middleName": "K", "lastName": "Lovelace"},
        "shippingAddress": {
            "region": "GB",
            "state": "Greater London",
            "city": "London",
            "address": "10 Downing Street",
            "zipCode": "SW1A 2AA",
            "shippingAddressType": "02",
        },
        "shippingPhoneNo": "+44 20 7946 0000",
    },
    "buyer": {
        "referenceBuyerId": "buyer-42",
        "buyerName": {"firstName": "Ada", "lastName": "Lovelace"},
        "buyerPhoneCountryCode": "+44",
        "buyerPhoneNo": "20 7946 0000",
        "buyerEmail": "ada@example.com",
        "buyerRegistrationTime": NOW - 30 * DAY,
        "buyerBrowserLanguage": "en-GB",
    },
    "merchant": {"subMerchantId": "1234567"},
    "returnUrl": "https://shop.example.com/return?order=1",
    "cancelUrl": "https://shop.example.com/cancel",
    "orderExpireTime": NOW + DAY,
    "supportPayCurrency": "BUSD,BNB",
    "universalUrlAttach": "a=1",
    "passThroughInfo": "anything the merchant wants back",
    "orderTags": {"ifProfitSharing": False},
}
# Minimal valid content of an object a mutation creates (required fields only); also what the
# repair step puts back at a required path.
PARENTS: dict[str, Any] = {
    "env": {"terminalType": "WEB"},
    "goods": BASELINE["goods"],
    "goods.goodsUnitAmount": {"currency": "USDT", "amount": "1"},
    "shipping": {},
    "shipping.shippingName": {"firstName": "Ada", "lastName": "Lovelace"},
    "shipping.shippingAddress": {"region": "GB"},
    "buyer": {},
    "buyer.buyerName": {"firstName": "Ada", "lastName": "Lovelace"},
    "merchant": {},
    "orderTags": {},
}
# Values the repair step puts back (paths absent here are removed instead).
REPAIR_BASELINE: dict[str, Any] = {
    **BASELINE,
    "goods": {
        **BASELINE["goods"],
        "goodsUnitAmount": {"currency": "USDT", "amount": "1"},
    },
    "shipping": {
        "shippingName": {"firstName": "Ada", "lastName": "Lovelace"},
        "shippingAddress": {"region": "GB"},
    },
    "buyer": {"buyerName": {"firstName": "Ada", "lastName": "Lovelace"}},
    "appId": "wx1234567890",
    "fiatAmount": None,
    "fiatCurrency": None,
}

# -- building blocks ------------------------------------------------------------------------------
WRONG_TYPE = st.sampled_from([None, "", 0, 7, -1, True, False, [], {}, ["x"], Decimal("1.5")])

ASCII_ALNUM = "abcXYZ019"
CHAR_CLASSES: dict[str, str] = {
    "alnum": ASCII_ALNUM,
    "visible": ASCII_ALNUM + "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
    "space": " \u00a0\u3000",
    "quote": '\\"',
    "control": "\x00\x01\t\n\r\x1f\x7f\x85\u2028\u2029",
    "bidi": "\u202e\u2066\u200e",
    "emoji": "\U0001f600\u2764\u2b50\ufe0f\u20e3\U0001f1fa\U000e0067\u231a\u25fd\u2614",
    "bmp_symbol": "\u2302\u2318\u23b0\u2b00\u2b95\u2190\u2122\u00a9\u25fb\u3030\u3297",
    "astral": "\U00020000\U0001d400\U00010400",
    "cjk": "\u4e2d\u6587\u5b57",
    "combining": "e\u0301\u0915\u094d\u200d\u0937\u0644\u200d\u0627",
    "zwj": "\u200d\u200c",
    "surrogate": "\ud800\udfff",
    "digits_fullwidth": "\uff11\uff12\u0661",
}
_CLASS_NAMES = sorted(CHAR_CLASSES)


@st.composite
def text_around(draw: Any, limits: tuple[int, ...], classes: tuple[str, ...] = ()) -> str:
    """A string whose length (in code points or UTF-16 units) is at or next to one of
    ``limits``, mostly of plain characters with a few from one other class."""
    limit = draw(st.sampled_from(limits))
    length = draw(
        st.one_of(st.sampled_from([limit - 1, limit, limit + 1]), st.integers(0, limit + 2))
    )
    length = max(length, 0)
    base = draw(st.sampled_from(classes or ("alnum", "visible")))
    extra = draw(st.sampled_from(_CLASS_NAMES))
    chars = draw(
        st.lists(
            st.one_of(
                st.sampled_from(CHAR_CLASSES[base]),
                st.sampled_from(CHAR_CLASSES[extra]),
            ),
            min_size=length,
            max_size=length,
        )
    )
    out = "".join(chars)
    if draw(st.integers(0, 9)) == 0:
        out = " " + out + " "
    return out


def short_text(*classes: str, max_size: int = 12) -> st.SearchStrategy[str]:
    alphabet = "".join(CHAR_CLASSES[name] for name in classes or _CLASS_NAMES)
    return st.text(alphabet=alphabet, max_size=max_size)


def text_field(*limits: int, classes: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    return st.one_of(
        text_around(limits, classes), short_text(), st.just(""), st.just("   "), WRONG_TYPE
    )


def codes(valid: list[str], near: list[str] = ()) -> st.SearchStrategy[Any]:
    misses = [c.lower() for c in valid[:3]] + [" " + valid[0], valid[0] + " "] + list(near)
    return st.one_of(
        st.sampled_from(valid), st.sampled_from(misses), short_text("alnum", max_size=5), WRONG_TYPE
    )


# -- amounts --------------------------------------------------------------------------------------
_AMOUNT_POINTS = [
    "0.00000001",
    "0.000000009",
    "0.00000000",
    "0",
    "1",
    "25.17",
    "0.1",
    "1.12345678",
    "1.123456789",
    "1.500000000",
    "99999999999.99999999",
    "99999999999",
    "100000000000",
    "100000000000.00000001",
    "100000000001",
    "999999999999.99999999",
    "1000000000000",
    "12345678901.12345678",
    "123456789012345678",
    "-1",
    "-0",
]


@st.composite
def amount_number(draw: Any) -> Decimal:
    unscaled = draw(
        st.one_of(st.integers(1, 10**20), st.sampled_from([1, 10**11, 10**12, 10**19, 10**20]))
    )
    places = draw(st.integers(0, 10))
    unscaled += draw(st.sampled_from([-1, 0, 0, 1]))
    return Decimal(f"{max(unscaled, 0)}E-{places}")


def _as_forms(text: str) -> list[Any]:
    return [text, Raw(text)]


AMOUNT = st.one_of(
    st.sampled_from(_AMOUNT_POINTS).flatmap(lambda t: st.sampled_from(_as_forms(t))),
    amount_number().flatmap(lambda d: st.sampled_from(_as_forms(format(d, "f")))),
    st.sampled_from(
        ["1e2", "1E-8", "1.5E+3", "007", "00.5", "+1", ".5", "5.", "1,5", " 1", "1 ", "NaN", "0x10"]
    ).flatmap(lambda t: st.sampled_from([t, Raw(t)] if t[0] in "0123456789" else [t])),
    st.integers(-2, 10**13),
    WRONG_TYPE,
)

# -- times and URLs -------------------------------------------------------------------------------
_EXPIRE_OFFSETS = [
    -DAY, -1, 0, 1, 1000, 59_999, 60_000, 60_001, 3_600_000,
    15 * DAY - 1, 15 * DAY, 15 * DAY + 1, 30 * DAY,
]  # fmt: skip
EXPIRE_TIME = st.one_of(
    st.sampled_from(_EXPIRE_OFFSETS).map(lambda d: NOW + d),
    st.integers(NOW - DAY, NOW + 16 * DAY),
    st.sampled_from(_EXPIRE_OFFSETS).map(lambda d: str(NOW + d)),
    st.sampled_from(
        [(NOW + DAY) // 1000, 3_600_000, 2**63, -(2**63) - 1, Decimal(NOW + DAY), Raw("1e13")]
    ),
    WRONG_TYPE,
)
PAST_TIME = st.one_of(
    st.sampled_from([-1, 0, 60_000, 60_001, DAY, -DAY, -3650 * DAY]).map(lambda d: NOW + d),
    st.sampled_from([NOW // 1000, 0, -5, str(NOW - DAY), 99_999_999_999, 100_000_000_000]),
    WRONG_TYPE,
)

_URL_BASES = [
    "https://shop.example.com/return",
    "http://shop.example.com",
    "HTTPS://Shop.Example.com/x",
    "https://m\u00fcnchen.example/x",
    "https://203.0.114.1:8443/p",
    "http://127.0.0.1:8000/x",
    "http://localhost/x",
    "http://10.0.0.1/x",
    "http://[::1]/x",
    "http://169.254.169.254/latest",
    "https://user:pw@shop.example.com/",
    "https://shop.example.com/a b",
    "https://shop.example.com\\x",
    "https://",
    "http:///x",
    "ftp://shop.example.com/x",
    "shop.example.com/x",
    "javascript:alert(1)",
    "https://-bad-.example.com/",
    "https://shop.example.com:99999/",
    "https://shop_x.example.com/",
]
_QUERIES = ["", "?a=1", "?a", "?a=1&b=2", "?a=1&", "?&a=1", "?a=1&&", "?", "?a=1#x&y", "#f&g"]


@st.composite
def url(draw: Any) -> Any:
    value = draw(st.sampled_from(_URL_BASES)) + draw(st.sampled_from(_QUERIES))
    if draw(st.integers(0, 4)) == 0:  # around the 256 limit
        target = draw(st.sampled_from([255, 256, 257]))
        value = value.split("?")[0].rstrip("/") + "/" + "p" * max(0, target - len(value) - 1)
        value = value[:target] if len(value) > target else value
    if draw(st.integers(0, 9)) == 0:
        value = draw(st.sampled_from([" ", "\t", "\n"])) + value
    return value


URL = st.one_of(url(), url(), WRONG_TYPE)

_PAY_CODES = ["BUSD", "BNB", "USDT", "BTC", "A", "AB", "A" * 16, "A" * 17, "A" * 20, "A" * 21]


@st.composite
def pay_currency_list(draw: Any) -> str:
    items = draw(
        st.lists(
            st.one_of(st.sampled_from(_PAY_CODES), st.sampled_from(["bnb", "", "B-B", "BN B"])),
            min_size=1,
            max_size=6,
        )
    )
    separator = draw(st.sampled_from([",", ",", ", ", " ,"]))
    out = separator.join(items)
    if draw(st.integers(0, 9)) == 0:
        out = ",".join(["BNB", *[f"C{n:03d}" for n in range(255)]])[: draw(st.integers(1020, 1030))]
    return out


# -- the field catalogue --------------------------------------------------------------------------
def person(prefix: str) -> dict[str, st.SearchStrategy[Any]]:
    return {
        f"{prefix}.firstName": text_field(128, 256),
        f"{prefix}.middleName": text_field(128),
        f"{prefix}.lastName": text_field(128, 256),
    }


IPS = [
    "8.8.8.8", "2001:4860::8888", "::1", "01.2.3.4", "300.1.1.1", "fe80::1%eth0", " 8.8.8.8",
    "8.8.8", "x" * 64, "x" * 65, "::ffff:8.8.8.8",
]  # fmt: skip
OBJECT_VALUES = st.one_of(WRONG_TYPE, st.just({}), st.just({"unknownKey": 1}))

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "env": OBJECT_VALUES,
    "env.terminalType": codes(["APP", "WEB", "WAP", "MINI_PROGRAM", "OTHERS"], ["DESKTOP"]),
    "env.osType": codes(["IOS", "ANDROID"], ["WINDOWS"]),
    "env.orderClientIp": st.one_of(st.sampled_from(IPS), text_field(64, 65)),
    "env.cookieId": text_field(128, 256, classes=("alnum", "visible")),
    "merchantTradeNo": text_field(32, classes=("alnum",)),
    "orderAmount": AMOUNT,
    "currency": codes(CRYPTO, FIAT),
    "fiatAmount": AMOUNT,
    "fiatCurrency": codes(FIAT, CRYPTO),
    "goods": OBJECT_VALUES,
    "goods.goodsType": codes(["01", "02"], ["1", "03", "00"]),
    "goods.goodsCategory": codes(
        sorted({*paysvc_refdata.GOODS_CATEGORIES, *sandbox_refdata.GOODS_CATEGORIES}),
        ["G000", "0001", "a000"],
    ),
    "goods.referenceGoodsId": text_field(64, 256),
    "goods.goodsName": text_field(256, classes=("alnum", "visible", "cjk", "bmp_symbol")),
    "goods.goodsDetail": text_field(256, classes=("alnum", "visible", "cjk", "bmp_symbol")),
    "goods.goodsQuantity": st.one_of(
        st.sampled_from(["1", "2", "0", "01", "-1", "999999999", "1000000000", "abc", "1.5"]),
        st.integers(-1, 10**10),
        WRONG_TYPE,
    ),
    "goods.goodsUnitAmount": OBJECT_VALUES,
    "goods.goodsUnitAmount.currency": codes(CODES, ["A" * 16, "A" * 17]),
    "goods.goodsUnitAmount.amount": AMOUNT,
    "shipping": OBJECT_VALUES,
    "shipping.shippingName": OBJECT_VALUES,
    **person("shipping.shippingName"),
    "shipping.shippingAddress": OBJECT_VALUES,
    "shipping.shippingAddress.region": codes(REGIONS, ["XK", "UK", "EU"]),
    "shipping.shippingAddress.state": text_field(128, 256),
    "shipping.shippingAddress.city": text_field(128, 256),
    "shipping.shippingAddress.address": text_field(256),
    "shipping.shippingAddress.zipCode": st.one_of(
        st.sampled_from(["SW1A 2AA", "10115", "12345-6789", "-123", "A" * 32, "A" * 33]),
        text_field(32, 256),
    ),
    "shipping.shippingAddress.shippingAddressType": codes(["01", "02", "03", "04"], ["05", "1"]),
    "shipping.shippingPhoneNo": st.one_of(
        st.sampled_from(["+44 20 7946 0000", "(555) 123-4567 x12", "phone", "1" * 32, "1" * 33]),
        text_field(32, 64),
    ),
    "buyer": OBJECT_VALUES,
    "buyer.referenceBuyerId": text_field(64),
    "buyer.buyerName": OBJECT_VALUES,
    **person("buyer.buyerName"),
    "buyer.buyerPhoneCountryCode": st.one_of(
        st.sampled_from(["+1", "44", "+1234", "+12345", "12345", "abc"]), text_field(5, 256)
    ),
    "buyer.buyerPhoneNo": st.one_of(st.sampled_from(["555 1234", "x"]), text_field(32, 256)),
    "buyer.buyerEmail": st.one_of(
        st.sampled_from(["ada@example.com", "ada", "a@b", "@example.com", "a" * 250 + "@b.co"]),
        text_field(254, 256),
    ),
    "buyer.buyerRegistrationTime": PAST_TIME,
    "buyer.buyerBrowserLanguage": st.one_of(
        st.sampled_from(["en", "en-US", "zh_CN", "e", "english", "en-", "x" * 36]),
        text_field(35, 256),
    ),
    "merchant": OBJECT_VALUES,
    "merchant.subMerchantId": st.one_of(
        st.sampled_from(["1", "1" * 19, "1" * 20, "12a", " 123", "\uff11"]), text_field(19, 20)
    ),
    "returnUrl": URL,
    "cancelUrl": URL,
    "orderExpireTime": EXPIRE_TIME,
    "supportPayCurrency": st.one_of(pay_currency_list(), text_field(1024)),
    "appId": text_field(64, classes=("alnum", "visible")),
    "universalUrlAttach": text_field(120, classes=("alnum", "visible")),
    "passThroughInfo": text_field(512),
    "orderTags": OBJECT_VALUES,
    "orderTags.ifProfitSharing": st.one_of(st.booleans(), WRONG_TYPE, st.just("true")),
    # paysvc's own fields, and fields paysvc deliberately does not take
    "notifyUrl": URL,
    "customerRef": text_field(64),
    "webhookUrl": URL,
    "directDebitContract": st.one_of(st.just({"contractId": "1"}), st.none()),
    "unknownTopLevel": st.one_of(st.none(), st.just("x")),
    "goods.unknownKey": st.just("x"),
    "env.userAgent": st.just("Mozilla"),
}
PATHS = sorted(FIELDS)
# The amount pair: which of the four fields the body starts with.
PAIR_MODES = {
    "crypto": {},
    "fiat": {"orderAmount": DELETE, "currency": DELETE, "fiatAmount": "100", "fiatCurrency": "HKD"},
    "fiat-usdt": {"orderAmount": DELETE, "fiatAmount": "5", "fiatCurrency": "USD"},
    "both": {"fiatAmount": "25.17", "fiatCurrency": "USD"},
    "none": {"orderAmount": DELETE, "currency": DELETE},
}
_MUTATION = st.sampled_from(PATHS).flatmap(
    lambda path: st.tuples(st.just(path), st.one_of(FIELDS[path], st.just(DELETE)))
)


@st.composite
def bodies(draw: Any) -> str:
    """JSON text of one Create Order v2 body as a merchant might send it to paysvc."""
    body = json.loads(json.dumps(draw(st.sampled_from([BASELINE, BASELINE, RICH]))))
    mode = draw(st.sampled_from(sorted(PAIR_MODES)))
    mutations = [*PAIR_MODES[mode].items(), *draw(st.lists(_MUTATION, max_size=4))]
    for path, value in mutations:
        set_path(body, path, value, PARENTS)
    env = body.get("env")
    mini_program = isinstance(env, dict) and env.get("terminalType") == "MINI_PROGRAM"
    if mini_program and draw(st.booleans()):
        body["appId"] = "wx1234567890"
    if draw(st.integers(0, 49)) == 0:
        return draw(st.sampled_from(["[]", "null", '"x"', "1", "{}"]))
    return dumps(body)
