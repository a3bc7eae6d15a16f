"""Factories for webhook tests: orders stored as paysvc stores them, and Binance-signed webhook
deliveries (bodies in Binance's byte-level shape, docs/binance-pay.md#webhook-envelope; headers
docs/binance-pay.md#webhook-headers)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from orders.models import Order
from tests.factories import ApplicationFactory, api_key_factory, new_prepay_id

WEBHOOK_PATH = "/webhooks/binance-pay/"


def new_nonce() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def envelope(biz_type: str, biz_id: str, biz_status: str, data_json: str) -> bytes:
    """The exact body Binance sends: compact, keys bizType, data, bizIdStr, bizId, bizStatus."""
    return (
        f'{{"bizType":{_compact(biz_type)},"data":{_compact(data_json)},'
        f'"bizIdStr":"{biz_id}","bizId":{biz_id},"bizStatus":{_compact(biz_status)}}}'
    ).encode()


def pay_body(
    order: Order | None = None,
    *,
    merchant_trade_no: str | None = None,
    prepay_id: str | None = None,
    status: str = "PAY_SUCCESS",
    total_fee: str | None = None,
    currency: str | None = None,
    transact_time: int = 1_700_000_000_000,
) -> bytes:
    """A PAY notification for ``order`` (or an explicit merchantTradeNo), Java-style amounts."""
    trade_no = merchant_trade_no or (order.merchant_trade_no if order else uuid.uuid4().hex)
    biz_id = prepay_id or (order.prepay_id if order and order.prepay_id else new_prepay_id())
    fee = (
        total_fee or f"{(order.total_fee or order.order_amount) if order else Decimal('25.17'):.8f}"
    )
    cur = currency or (order.currency if order else "USDT")
    data = (
        f'{{"merchantTradeNo":{_compact(trade_no)},"productType":"02","productName":"Ice Cream",'
        f'"transactTime":{transact_time},"tradeType":"WEB","totalFee":{fee},'
        f'"currency":{_compact(cur)}'
    )
    if status == "PAY_SUCCESS":
        data += (
            ',"transactionId":"M_P_219129203579346945",'
            '"openUserId":"f36fae12c2b40cdbc9ee6ed5402638e0","commission":0,'
            '"paymentInfo":{"payerId":158292251,"payMethod":"funding","paymentInstructions":'
            f'[{{"currency":{_compact(cur)},"amount":{fee},"price":1}}],"channel":"DEFAULT"}}}}'
        )
    else:
        data += ',"commission":0}'
    return envelope("PAY", biz_id, status, data)


def refund_body(
    *,
    merchant_trade_no: str,
    prepay_id: str,
    refund_request_id: str,
    refund_amount: str = "5.00000000",
    refunded_amount: str = "5.00000000",
    order_amount: str = "25.17000000",
    status: str = "REFUND_SUCCESS",
) -> bytes:
    """A PAY_REFUND notification: bizId is the order's prepayId
    (docs/binance-pay.md#biztype-and-bizstatus, docs/binance-pay.md#refund-data)."""
    data = _compact(
        {
            "merchantTradeNo": merchant_trade_no,
            "totalFee": "__FEE__",
            "transactTime": 1_700_000_000_000,
            "refundInfo": {
                "orderAmount": order_amount,
                "duplicateRequest": "N",
                "payerOpenId": "9aa0a8bb21cf5fbf049aad7db35dc3d3",
                "prepayId": prepay_id,
                "refundRequestId": refund_request_id,
                "refundedAmount": refunded_amount,
                "remainingAttempts": 9,
                "refundAmount": refund_amount,
            },
            "currency": "USDT",
            "commission": 0,
            "openUserId": "b5ec36baaa5ab9a5cfb1c29c2057bd81",
            "productType": "02",
            "productName": "Ice Cream",
            "tradeType": "WEB",
        }
    ).replace('"__FEE__"', order_amount)
    return envelope("PAY_REFUND", prepay_id, status, data)


def share_body(*, request_id: str, share_id: str, user_binance_id: str = "100103397765") -> bytes:
    data = _compact({"requestId": request_id, "userBinanceId": user_binance_id, "userName": "xxx"})
    return envelope("SHARE_ACCOUNT_ID", share_id, "SUCCESS", data)


@dataclass(frozen=True)
class Signer:
    """Binance's side of docs/binance-pay.md#webhook-signature: sign ``ts LF nonce LF body LF`` with
    RSA/SHA-256."""

    key: rsa.RSAPrivateKey
    pem: str
    serial: str

    @classmethod
    def generate(cls, bits: int = 2048) -> Signer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
            .rstrip("\n")
        )
        return cls(key, pem, hashlib.md5(pem.encode(), usedforsecurity=False).hexdigest().upper())

    def signature(self, timestamp: str, nonce: str, body: bytes) -> str:
        payload = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        raw = self.key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")

    def headers(
        self,
        body: bytes,
        *,
        timestamp: int | str | None = None,
        nonce: str | None = None,
        serial: str | None = None,
    ) -> dict[str, str]:
        """The four BinancePay-* headers for ``body`` (fresh nonce, ``timestamp`` in ms)."""
        from paysvc import clock

        ts = str(clock.now_ms() if timestamp is None else timestamp)
        nonce = nonce or new_nonce()
        return {
            "BinancePay-Timestamp": ts,
            "BinancePay-Nonce": nonce,
            "BinancePay-Certificate-SN": serial or self.serial,
            "BinancePay-Signature": self.signature(ts, nonce, body),
        }


def meta(headers: dict[str, str]) -> dict[str, str]:
    """Test-client keyword arguments for these headers (HTTP_BINANCEPAY_...)."""
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}


def merchant_api(api_version: str = "v3") -> Any:
    """A merchant API client with a fresh key (and so fresh rate limits) of a new application
    whose orders use Create Order `api_version`."""
    from rest_framework.test import APIClient

    application = ApplicationFactory(order_api_version=api_version)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(application=application)[1]}")
    return client


def api_order(client: Any, **extra: Any) -> dict[str, Any]:
    """Create an order through the merchant API (so at the sandbox); returns its JSON."""
    from tests.factories import order_body

    response = client.post("/api/v1/orders", order_body(**extra), format="json")
    assert response.status_code == 201, response.content
    return response.json()
