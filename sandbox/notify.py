"""Webhook notifications: payload shape (docs/binance-pay.md#webhook-envelope,
docs/binance-pay.md#pay-data, docs/binance-pay.md#refund-data,
docs/binance-pay.md#share-account-data) and the outbox they wait in.

``enqueue`` runs inside the business write transaction, so an event is recorded exactly when its
state change commits; the dispatcher delivers it afterwards. Webhook faults (``/sandbox/
webhook-faults``) are consumed here, at enqueue time, so their effect is decided once.

Body: compact JSON, keys ``bizType, data, bizIdStr, bizId, bizStatus``; ``data`` is a JSON *string*
of compact JSON with Java-style numbers (``jsonjava``); ``bizId`` is a bare JSON number.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from decimal import Decimal
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.jsonjava import amount8, dumps_java

# States of a notification row.
PENDING, SENDING, HELD = "pending", "sending", "held"
DELIVERED, FAILED, NO_URL, DROPPED = "delivered", "failed", "no_url", "dropped"
FINAL_STATES = (DELIVERED, FAILED, NO_URL, DROPPED)

_enqueued = threading.local()


def take_enqueued_flag() -> bool:
    """True if this thread enqueued something since the last call (used to wake the dispatcher)."""
    flag = getattr(_enqueued, "flag", False)
    _enqueued.flag = False
    return flag


def webhook_body(biz_type: str, biz_id: str, biz_status: str, data: dict[str, Any]) -> str:
    """The exact body text Binance sends (docs/binance-pay.md#webhook-envelope)."""
    return dumps_java(
        {
            "bizType": biz_type,
            "data": dumps_java(data),
            "bizIdStr": biz_id,
            "bizId": int(biz_id),
            "bizStatus": biz_status,
        }
    )


def pay_data(order: sqlite3.Row, *, closed: bool) -> dict[str, Any]:
    """``data`` of a PAY notification (docs/binance-pay.md#pay-data, observed key order).

    Sandbox choice for PAY_CLOSED (no real capture, docs/binance-pay.md#pay-data): same family
    without transactionId, openUserId and paymentInfo; transactTime is the time of closing.
    """
    goods = json.loads(order["goods"])
    data: dict[str, Any] = {
        "merchantTradeNo": order["merchant_trade_no"],
        "productType": goods["goodsType"],
        "productName": goods["goodsName"],
        "transactTime": order["closed_at"] if closed else order["transact_time"],
        "tradeType": order["terminal_type"],
        "totalFee": amount8(Decimal(order["amount"])),
        "currency": order["currency"],
    }
    if not closed:
        data["transactionId"] = order["transaction_id"]
        data["openUserId"] = order["open_user_id"]
    if order["pass_through_info"] is not None:
        data["passThroughInfo"] = order["pass_through_info"]
    data["commission"] = Decimal(order["commission"])
    if not closed:
        data["paymentInfo"] = {
            "payerId": order["payer_id"],
            "payMethod": "funding",
            "paymentInstructions": [
                {
                    "currency": order["pay_currency"],
                    "amount": amount8(Decimal(order["pay_amount"])),
                    "price": Decimal(order["pay_price"]),
                }
            ],
            "channel": "DEFAULT",
        }
    return data


def enqueue(
    conn: sqlite3.Connection,
    config: SandboxConfig,
    *,
    biz_type: str,
    biz_id: str,
    biz_status: str,
    data: dict[str, Any],
    url: str | None,
    now: int,
    merchant_trade_no: str | None = None,
    ref: str | None = None,
) -> int:
    """Record a notification for delivery to ``url`` (else SANDBOX_WEBHOOK_URL, else no_url)."""
    target = url or config.webhook_url
    body = webhook_body(biz_type, biz_id, biz_status, data)
    fault = _take_fault(conn, biz_type) if target else None
    state, next_at, fail_remaining = (PENDING, now, 0) if target else (NO_URL, now, 0)
    mode = fault["mode"] if fault else None
    if mode == "drop":
        state = DROPPED
    elif mode == "delay":
        next_at = now + int((fault["seconds"] or 0) * 1000)
    elif mode == "reorder":
        state = HELD
    elif mode == "fail":
        fail_remaining = fault["attempts"] or 1
    fault_json = json.dumps({"mode": mode, "faultId": fault["id"]}) if fault else None
    cur = conn.execute(
        "INSERT INTO notifications(biz_type, biz_id, biz_status, merchant_trade_no, ref, url, body,"
        " state, next_at, created_at, finished_at, fail_remaining, fault)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            biz_type,
            biz_id,
            biz_status,
            merchant_trade_no,
            ref,
            target,
            body,
            state,
            next_at,
            now,
            now if state in FINAL_STATES else None,
            fail_remaining,
            fault_json,
        ),
    )
    notification_id = int(cur.lastrowid or 0)
    if state == DROPPED:
        conn.execute(
            "INSERT INTO attempts(notification_id, attempt_no, at, outcome) VALUES (?, 0, ?, ?)",
            (notification_id, now, "dropped (webhook fault)"),
        )
    if mode == "duplicate":
        conn.execute(
            "INSERT INTO notifications(biz_type, biz_id, biz_status, merchant_trade_no, ref, url,"
            " body, state, next_at, created_at, after_id, same_signature, fault)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                biz_type,
                biz_id,
                biz_status,
                merchant_trade_no,
                ref,
                target,
                body,
                PENDING,
                now,
                now,
                notification_id,
                1 if fault["same_signature"] else 0,
                json.dumps({"mode": "duplicate-copy", "faultId": fault["id"]}),
            ),
        )
    _enqueued.flag = True
    return notification_id


def _take_fault(conn: sqlite3.Connection, biz_type: str) -> sqlite3.Row | None:
    row = conn.execute(
        "SELECT * FROM faults WHERE kind = 'webhook' AND remaining > 0"
        " AND (biz_type IS NULL OR biz_type = ?) ORDER BY id LIMIT 1",
        (biz_type,),
    ).fetchone()
    if row is not None:
        conn.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
    return row
