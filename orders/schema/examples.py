"""Request and response examples of the orders operations (Swagger UI shows them; the schemathesis
test sends the request examples to the live sandbox)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

CRYPTO_ORDER_REQUEST = {
    "env": {"terminalType": "WEB", "orderClientIp": "203.0.113.7", "cookieId": "9c1e2f3a4b5d"},
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
        "shippingName": {"firstName": "Joe", "lastName": "Don"},
        "shippingAddress": {
            "region": "NZ",
            "state": "Auckland",
            "city": "Auckland",
            "address": "12 Queen Street",
            "zipCode": "1010",
            "shippingAddressType": "02",
        },
        "shippingPhoneNo": "+64 9 555 0100",
    },
    "buyer": {
        "referenceBuyerId": "buyer-1234",
        "buyerName": {"firstName": "Jane", "lastName": "Doe"},
        "buyerPhoneCountryCode": "+64",
        "buyerPhoneNo": "21 555 0100",
        "buyerEmail": "jane.doe@example.com",
        "buyerRegistrationTime": 1700000000000,
        "buyerBrowserLanguage": "en-NZ",
    },
    "returnUrl": "https://shop.example.com/checkout/done?order=1001",
    "cancelUrl": "https://shop.example.com/checkout/cancel?order=1001",
    "customerRef": "customer-42",
    "supportPayCurrency": "USDT,BNB",
    "passThroughInfo": "order 1001",
}
FIAT_ORDER_REQUEST = {
    "env": {"terminalType": "APP", "osType": "IOS"},
    "fiatAmount": "1.00",
    "fiatCurrency": "USD",
    "goods": {
        "goodsType": "02",
        "goodsCategory": "6000",
        "referenceGoodsId": "gems100",
        "goodsName": "100 Gems",
    },
    "customerRef": "player-7",
}
BASKET_ORDER_REQUEST = {
    "env": {"terminalType": "WEB"},
    "orderAmount": "7.50",
    "currency": "USDT",
    "description": "Breakfast box for 2",
    "goodsDetails": [
        {
            "goodsType": "01",
            "goodsCategory": "D000",
            "referenceGoodsId": "croissant",
            "goodsName": "Croissant",
            "goodsUnitAmount": {"currency": "USDT", "amount": "2.25"},
            "goodsQuantity": "2",
        },
        {
            "goodsType": "01",
            "goodsCategory": "D000",
            "referenceGoodsId": "coffee",
            "goodsName": "Coffee",
            "goodsUnitAmount": {"currency": "USDT", "amount": "3.00"},
            "goodsQuantity": "1",
        },
    ],
    "customerRef": "customer-42",
}
MINIMAL_ORDER_REQUEST = {
    "env": {"terminalType": "WEB"},
    "orderAmount": "0.01",
    "currency": "USDT",
    "goods": {
        "goodsType": "02",
        "goodsCategory": "Z000",
        "referenceGoodsId": "sku001",
        "goodsName": "Ice Cream",
    },
}

ORDER_CREATE_EXAMPLES = [
    OpenApiExample(
        "Crypto order",
        summary="Crypto order with goods, env, shipping and buyer",
        value=CRYPTO_ORDER_REQUEST,
        description="25.17 USDT for one ice cream, with everything Binance uses for risk "
        "control. paysvc generates the `merchantTradeNo` (see the answer); to use your own, add "
        '`"merchantTradeNo": "..."` (letters and digits, at most 32, never reused).',
        request_only=True,
    ),
    OpenApiExample(
        "Fiat order",
        summary="Fiat order of 1.00 USD",
        value=FIAT_ORDER_REQUEST,
        description="Priced in fiat: Binance converts to a crypto amount, returned as "
        "`currency` and `totalFee`. Give either `orderAmount`+`currency` or "
        "`fiatAmount`+`fiatCurrency`, never both.",
        request_only=True,
    ),
    OpenApiExample(
        "Basket (v3)",
        summary="Several goods items with a description (Create Order v3)",
        value=BASKET_ORDER_REQUEST,
        description="`goodsDetails` lists every item and `description` is what the payer sees "
        "at checkout: both are Create Order v3 fields, for applications set to v3 (the default). "
        "With `goods` (one item) instead, paysvc sends it as the only item and uses its name as "
        "the description. A v2 application takes one item and no `description`.",
        request_only=True,
    ),
    OpenApiExample(
        "Minimal order",
        summary="Minimal order (required fields only)",
        value=MINIMAL_ORDER_REQUEST,
        description="Only the required fields; paysvc generates the `merchantTradeNo`.",
        request_only=True,
    ),
]

_REFUND = {
    "refundRequestId": "refund20250131A",
    "status": "REFUND_PENDING",
    "refundAmount": "10.5",
    "refundReason": "customer asked",
    "refundId": "29287478297432832",
    "refundedAmount": None,
    "remainingAttempts": 9,
    "failureCode": "",
    "failureMessage": "",
    "createdAt": "2025-01-31T12:10:00.000000Z",
    "completedAt": None,
}
_ORDER = {
    "merchantTradeNo": "9825382937292",
    "prepayId": "29383937493038367",
    "status": "INITIAL",
    "customerRef": "customer-42",
    "currency": "USDT",
    "orderAmount": "25.17",
    "totalFee": "25.17",
    "fiatAmount": None,
    "fiatCurrency": "",
    "checkoutUrl": "https://pay.binance.com/en/checkout/e30bb9d2a8f4f1ccf3c5f6ad6b4c3a2b",
    "qrcodeLink": "https://public.bnbstatic.com/static/payment/20250131/0f2c7a1e.jpg",
    "qrContent": "https://app.binance.com/qr/dplkb005181944f84b84aba2430e1177012b",
    "deeplink": "bnc://app.binance.com/payment/secpay?tempToken=5eB5lQMg3Mb1fa8a1SoPCV",
    "universalUrl": "https://app.binance.com/payment/secpay?linkToken=5eB5lQMg3Mb1fa8a1SoPCV"
    "&_dp=Ym5jOi8vYXBwLmJpbmFuY2UuY29tL3BheW1lbnQvc2VjcGF5",
    "expireTime": "2025-01-31T13:00:00Z",
    "transactionId": "",
    "openUserId": "",
    "env": CRYPTO_ORDER_REQUEST["env"],
    "apiVersion": "v3",
    "description": "Ice Cream",
    "goods": CRYPTO_ORDER_REQUEST["goods"],
    "goodsDetails": [CRYPTO_ORDER_REQUEST["goods"]],
    "shipping": CRYPTO_ORDER_REQUEST["shipping"],
    "buyer": CRYPTO_ORDER_REQUEST["buyer"],
    "returnUrl": CRYPTO_ORDER_REQUEST["returnUrl"],
    "cancelUrl": CRYPTO_ORDER_REQUEST["cancelUrl"],
    "notifyUrl": "",
    "flagged": False,
    "failureCode": "",
    "failureMessage": "",
    "createdAt": "2025-01-31T12:00:00.123456Z",
    "paidAt": None,
    "refunds": [],
}
_TIMELINE = [
    {
        "createdAt": "2025-01-31T12:00:00.125000Z",
        "kind": "note",
        "source": "api",
        "summary": "order stored; creating it at Binance",
        "fromStatus": "",
        "toStatus": "",
    },
    {
        "createdAt": "2025-01-31T12:00:00.410000Z",
        "kind": "binance_call",
        "source": "api",
        "summary": "POST /binancepay/openapi/v2/order: SUCCESS",
        "fromStatus": "",
        "toStatus": "",
    },
]
ORDER_DETAIL_EXAMPLE = {**_ORDER, "timeline": _TIMELINE}
PAID_ORDER_DETAIL_EXAMPLE = {
    **_ORDER,
    "status": "PAID",
    "transactionId": "M_P_71505104267788288",
    "openUserId": "1dbbfa0a5b7b6e54c8d4b6d0bf7cf0bd",
    "paidAt": "2025-01-31T12:03:21Z",
    "timeline": [
        *_TIMELINE,
        {
            "createdAt": "2025-01-31T12:03:22.004000Z",
            "kind": "status_change",
            "source": "webhook",
            "summary": "PAY_SUCCESS",
            "fromStatus": "INITIAL",
            "toStatus": "PAID",
        },
    ],
}

ORDER_CREATED_EXAMPLES = [
    OpenApiExample(
        "Order created",
        value=_ORDER,
        description="Send the buyer to `checkoutUrl` (web), show `qrcodeLink`/`qrContent` as a "
        "QR code, or open `deeplink`/`universalUrl` in the Binance app.",
        response_only=True,
        status_codes=[201],
    )
]
ORDER_DETAIL_EXAMPLES = [
    OpenApiExample("Unpaid order", value=ORDER_DETAIL_EXAMPLE, response_only=True),
    OpenApiExample("Paid order", value=PAID_ORDER_DETAIL_EXAMPLE, response_only=True),
]
ORDER_LIST_EXAMPLES = [
    OpenApiExample(
        "A page of orders",
        value={
            "count": 41,
            "next": "https://paysvc.example.com/api/v1/orders?page=2&pageSize=20",
            "previous": None,
            "results": [_ORDER],
        },
        response_only=True,
    )
]
ORDER_CLOSED_EXAMPLES = [
    OpenApiExample(
        "Order closed",
        value={**_ORDER, "status": "CANCELED"},
        response_only=True,
        status_codes=[202],
    )
]

REFUND_CREATE_EXAMPLES = [
    OpenApiExample(
        "Partial refund",
        summary="Partial refund with your own refundRequestId",
        value={
            "refundAmount": "10.5",
            "refundReason": "customer asked",
            "refundRequestId": "refund20250131A",
        },
        description="Repeating the request with the same `refundRequestId` and amount answers "
        "the same refund; Binance never refunds one id twice.",
        request_only=True,
    ),
    OpenApiExample(
        "Full refund",
        summary="Refund of what remains, refundRequestId generated",
        value={"refundAmount": "25.17"},
        description="Refunds what remains of a 25.17 order; paysvc generates the "
        "`refundRequestId`.",
        request_only=True,
    ),
]
REFUND_EXAMPLES = [
    OpenApiExample("Refund accepted", value=_REFUND, response_only=True, status_codes=[202]),
]
REFUND_DETAIL_EXAMPLES = [
    OpenApiExample(
        "Refund succeeded",
        value={
            **_REFUND,
            "status": "REFUND_SUCCESS",
            "refundedAmount": "10.5",
            "completedAt": "2025-01-31T12:10:03Z",
        },
        response_only=True,
    ),
]

ACCOUNT_SHARE_CREATE_EXAMPLES = [
    OpenApiExample(
        "With requestId",
        summary="Account share with your own requestId",
        value={"customerRef": "customer-42", "requestId": "share20250131A"},
        request_only=True,
    ),
    OpenApiExample(
        "Minimal",
        summary="Account share, requestId generated",
        value={"customerRef": "customer-42"},
        request_only=True,
    ),
]
_SHARE = {
    "requestId": "share20250131A",
    "customerRef": "customer-42",
    "status": "PENDING",
    "qrcodeContent": "https://app.binance.com/qr/share/5b3c9e8d7f",
    "qrcodeUrl": "https://public.bnbstatic.com/static/payment/share/5b3c9e8d7f.jpg",
    "expireTime": "2025-01-31T12:15:00Z",
    "binanceId": "",
    "createdAt": "2025-01-31T12:00:00.000000Z",
    "sharedAt": None,
}
ACCOUNT_SHARE_EXAMPLES = [
    OpenApiExample(
        "Waiting for the user",
        value=_SHARE,
        description="Show `qrcodeContent` as a QR code (or `qrcodeUrl` as an image); the user "
        "scans it with the Binance app and agrees.",
        response_only=True,
        status_codes=[201],
    ),
]
ACCOUNT_SHARE_DETAIL_EXAMPLES = [
    OpenApiExample(
        "Shared",
        value={
            **_SHARE,
            "status": "SHARED",
            "binanceId": "354205155",
            "sharedAt": "2025-01-31T12:02:10Z",
        },
        response_only=True,
    ),
]
