"""Order lifecycle on Binance's side (docs/binance-pay.md#create-order,
docs/binance-pay.md#query-order, docs/binance-pay.md#close-order; the state machine is that of
docs/binance-pay.md#order-statuses), for orders made by Create Order v2 and v3 alike.

INITIAL --checkout page opened--> PENDING --pay--> PAID --refund--> REFUNDING -->
REFUNDED (partial) | FULL_REFUNDED. INITIAL|PENDING --close--> CANCELED, --expireTime--> EXPIRED.
Every function runs inside the caller's write transaction and enqueues the matching webhook.
Expiry is enforced by the dispatcher's scanner and lazily by ``load`` (any read through it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import time
import uuid
from decimal import ROUND_UP, Decimal
from typing import Any

from sandbox import errors as E
from sandbox import notify
from sandbox.config import SandboxConfig
from sandbox.errors import ApiError
from sandbox.refdata import COIN_PRICES_USDT
from sandbox.store import next_id
from sandbox.validation import NewOrder, OrderRef

OPEN_STATUSES = ("INITIAL", "PENDING")
PAID_STATUSES = ("PAID", "REFUNDING", "REFUNDED", "FULL_REFUNDED")
DEMO_PAYER_ID = 158292251
_EIGHT = Decimal("1E-8")


class StateError(Exception):
    """An action that the order's (or refund's, share's) current state does not allow."""


def _yyyymmdd(now: int) -> str:
    return time.strftime("%Y%m%d", time.gmtime(now / 1000))


def create(conn: sqlite3.Connection, cfg: SandboxConfig, new: NewOrder, now: int) -> dict[str, Any]:
    """Insert the order; return Create Order ``data`` (docs/binance-pay.md#create-order, both
    shapes).

    v2 and v3 orders are one kind of row (``api_version`` records which call made it) and get the
    same answer (docs/binance-pay-v3.md 5); from here on nothing depends on the version except
    what the checkout page and the control API show.
    """
    prepay_id = str(next_id(conn, now))
    checkout_token, qr_token = uuid.uuid4().hex, uuid.uuid4().hex
    image_id = str(uuid.uuid4())
    public = cfg.public_url
    qr_content = f"{public}/qr/dplk{qr_token}"
    amount = format(new.amount, "f")
    try:
        conn.execute(
            "INSERT INTO orders(prepay_id, merchant_trade_no, status, terminal_type, currency,"
            " amount, fiat_currency, fiat_amount, goods, return_url, cancel_url, webhook_url,"
            " pass_through_info, checkout_token, qr_token, image_id, create_time, expire_time,"
            " api_version, description, goods_details, qr_code_refer_id)"
            " VALUES (?, ?, 'INITIAL', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                prepay_id,
                new.merchant_trade_no,
                new.terminal_type,
                new.currency,
                amount,
                new.fiat_currency,
                None if new.fiat_amount is None else format(new.fiat_amount, "f"),
                json.dumps(new.goods, ensure_ascii=False),
                new.return_url,
                new.cancel_url,
                new.webhook_url,
                new.pass_through_info,
                checkout_token,
                qr_token,
                image_id,
                now,
                new.expire_time,
                new.api_version,
                new.description,
                None
                if new.goods_details is None
                else json.dumps(new.goods_details, ensure_ascii=False),
                new.qr_code_refer_id,
            ),
        )
    except sqlite3.IntegrityError:
        raise ApiError(
            E.INVALID_MERCHANT_TRADE_NO, "merchantTradeNo is invalid or duplicated"
        ) from None
    conn.execute("INSERT INTO images(id, content) VALUES (?, ?)", (image_id, qr_content))
    deeplink = "bnc://app.binance.com/payment/secpay?tempToken=" + base64.b32encode(
        os.urandom(20)
    ).decode("ascii")
    universal = (
        f"{public}/payment/secpay?linkToken={qr_token}"
        f"&_dp={base64.urlsafe_b64encode(deeplink.encode()).decode('ascii')}"
    )
    if new.universal_url_attach:
        universal += "&" + new.universal_url_attach
    links = {
        "prepayId": prepay_id,
        "terminalType": new.terminal_type,
        "expireTime": new.expire_time,
        "qrcodeLink": f"{public}/static/payment/{_yyyymmdd(now)}/{image_id}.png",
        "qrContent": qr_content,
        "checkoutUrl": f"{public}/en/checkout/{checkout_token}",
        "deeplink": deeplink,
        "universalUrl": universal,
    }
    if new.fiat_currency is None:
        return {**links, "totalFee": amount, "currency": new.currency}
    return {
        "currency": new.currency,
        "totalFee": amount,
        "fiatCurrency": new.fiat_currency,
        "fiatAmount": format(new.fiat_amount or 0, "f"),
        **links,
    }


_BY_COLUMN = {
    column: f"SELECT * FROM orders WHERE {column} = ?"  # noqa: S608 - fixed column names  # nosec B608
    for column in ("prepay_id", "merchant_trade_no", "checkout_token")
}


def _select(conn: sqlite3.Connection, column: str, value: str) -> sqlite3.Row | None:
    return conn.execute(_BY_COLUMN[column], (value,)).fetchone()


def load(
    conn: sqlite3.Connection, cfg: SandboxConfig, now: int, *, column: str, value: str
) -> sqlite3.Row | None:
    """Fetch an order by a unique column, expiring it first if its time is up (lazy expiry)."""
    row = _select(conn, column, value)
    if row is not None and row["status"] in OPEN_STATUSES and row["expire_time"] <= now:
        expire(conn, cfg, row, now)
        row = _select(conn, column, value)
    return row


def load_ref(conn: sqlite3.Connection, cfg: SandboxConfig, ref: OrderRef, now: int) -> sqlite3.Row:
    """By prepayId if given, else merchantTradeNo (docs/binance-pay.md#query-order); 400202 if
    unknown."""
    if ref.prepay_id is not None:
        row = load(conn, cfg, now, column="prepay_id", value=ref.prepay_id)
    else:
        row = load(conn, cfg, now, column="merchant_trade_no", value=ref.merchant_trade_no or "")
    if row is None:
        raise ApiError(E.ORDER_NOT_FOUND, "Order not found.")
    return row


def query_view(order: sqlite3.Row, cfg: SandboxConfig) -> dict[str, Any]:
    """Query Order v2 ``data`` (docs/binance-pay.md#query-order): merchantId number, amounts as
    strings."""
    data: dict[str, Any] = {"merchantId": cfg.merchant_id, "prepayId": order["prepay_id"]}
    if order["transaction_id"]:
        data["transactionId"] = order["transaction_id"]
    data["merchantTradeNo"] = order["merchant_trade_no"]
    data["status"] = order["status"]
    data["currency"] = order["currency"]
    data["orderAmount"] = order["amount"]
    if order["open_user_id"]:
        data["openUserId"] = order["open_user_id"]
    if order["pass_through_info"] is not None:
        data["passThroughInfo"] = order["pass_through_info"]
    if order["transact_time"]:
        data["commission"] = order["commission"]
        data["transactTime"] = order["transact_time"]
    data["createTime"] = order["create_time"]
    if order["transact_time"]:
        data["paymentInfo"] = {
            "payerId": str(order["payer_id"]),
            "payMethod": "funding",
            "paymentInstructions": [
                {
                    "currency": order["pay_currency"],
                    "amount": order["pay_amount"],
                    "price": order["pay_price"],
                }
            ],
            "channel": "DEFAULT",
        }
    return data


def mark_opened(conn: sqlite3.Connection, order: sqlite3.Row, now: int) -> None:
    """INITIAL -> PENDING when the payer opens the checkout page (sandbox choice,
    docs/binance-pay.md#order-statuses)."""
    if order["status"] == "INITIAL":
        conn.execute(
            "UPDATE orders SET status = 'PENDING', opened_at = ? "
            "WHERE prepay_id = ? AND status = 'INITIAL'",
            (now, order["prepay_id"]),
        )


def open_user_id_for(cfg: SandboxConfig, payer_id: int) -> str:
    """Merchant-scoped payer id: 32 lower-case hex, stable per (merchant, payer)."""
    raw = f"{cfg.merchant_id}:{payer_id}".encode()
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def pay(
    conn: sqlite3.Connection,
    cfg: SandboxConfig,
    order: sqlite3.Row,
    now: int,
    *,
    pay_currency: str | None = None,
    open_user_id: str | None = None,
) -> None:
    """The payer pays: PAID with transactionId, openUserId, paymentInfo; PAY_SUCCESS webhook."""
    if order["status"] not in OPEN_STATUSES:
        raise StateError(f"order is {order['status']}, it cannot be paid")
    currency = order["currency"]
    pay_currency = (pay_currency or currency).upper()
    if pay_currency not in COIN_PRICES_USDT:
        raise StateError(f"unsupported payCurrency {pay_currency}")
    amount = Decimal(order["amount"])
    if pay_currency == currency:
        price, pay_amount = Decimal(1), amount
    else:
        price = (COIN_PRICES_USDT[pay_currency] / COIN_PRICES_USDT[currency]).quantize(_EIGHT)
        pay_amount = (amount / price).quantize(_EIGHT, rounding=ROUND_UP)
    if open_user_id:
        digest = hashlib.sha256(open_user_id.encode()).hexdigest()
        payer_id = 100_000_000 + int(digest[:12], 16) % 900_000_000
    else:
        payer_id = DEMO_PAYER_ID
        open_user_id = open_user_id_for(cfg, payer_id)
    conn.execute(
        "UPDATE orders SET status = 'PAID', transact_time = ?, transaction_id = ?,"
        " open_user_id = ?, payer_id = ?, pay_currency = ?, pay_amount = ?, pay_price = ?"
        " WHERE prepay_id = ?",
        (
            now,
            f"M_P_{next_id(conn, now)}",
            open_user_id,
            payer_id,
            pay_currency,
            format(pay_amount, "f"),
            format(price, "f"),
            order["prepay_id"],
        ),
    )
    _notify_pay(conn, cfg, order["prepay_id"], "PAY_SUCCESS", now)


def close(conn: sqlite3.Connection, cfg: SandboxConfig, order: sqlite3.Row, now: int) -> None:
    """Close Order (docs/binance-pay.md#close-order): INITIAL|PENDING -> CANCELED, then a PAY_CLOSED
    webhook.

    Anything else (paid, refunded, already closed or expired) -> 400204 (sandbox choice for the
    closed/expired cases).
    """
    if order["status"] not in OPEN_STATUSES:
        raise ApiError(
            E.INVALID_ORDER_STATUS, f"Order status is {order['status']}, it cannot be closed."
        )
    conn.execute(
        "UPDATE orders SET status = 'CANCELED', closed_at = ? WHERE prepay_id = ?",
        (now, order["prepay_id"]),
    )
    _notify_pay(conn, cfg, order["prepay_id"], "PAY_CLOSED", now)


def expire(conn: sqlite3.Connection, cfg: SandboxConfig, order: sqlite3.Row, now: int) -> bool:
    """INITIAL|PENDING -> EXPIRED with a PAY_CLOSED webhook
    (docs/binance-pay.md#webhook-ack-and-retries, OBSERVED)."""
    cur = conn.execute(
        "UPDATE orders SET status = 'EXPIRED', closed_at = ?, expire_time = MIN(expire_time, ?)"
        " WHERE prepay_id = ? AND status IN ('INITIAL', 'PENDING')",
        (now, now, order["prepay_id"]),
    )
    if cur.rowcount:
        _notify_pay(conn, cfg, order["prepay_id"], "PAY_CLOSED", now)
    return bool(cur.rowcount)


def expire_due(conn: sqlite3.Connection, cfg: SandboxConfig, now: int, limit: int = 200) -> int:
    """The scanner: expire every open order whose expireTime has passed."""
    rows = conn.execute(
        "SELECT * FROM orders WHERE status IN ('INITIAL', 'PENDING') AND expire_time <= ? LIMIT ?",
        (now, limit),
    ).fetchall()
    return sum(expire(conn, cfg, row, now) for row in rows)


def _notify_pay(
    conn: sqlite3.Connection, cfg: SandboxConfig, prepay_id: str, status: str, now: int
) -> None:
    order = conn.execute("SELECT * FROM orders WHERE prepay_id = ?", (prepay_id,)).fetchone()
    notify.enqueue(
        conn,
        cfg,
        biz_type="PAY",
        biz_id=prepay_id,
        biz_status=status,
        data=notify.pay_data(order, closed=status == "PAY_CLOSED"),
        url=order["webhook_url"],
        now=now,
        merchant_trade_no=order["merchant_trade_no"],
    )
