"""Refunds (docs/binance-pay.md#refund-order, docs/binance-pay.md#query-refund,
docs/binance-pay.md#refund-data).

* Allowed on PAID, REFUNDING and REFUNDED orders; any other status -> 400204 (sandbox choice;
  unknown prepayId -> 400202).
* ``refundRequestId`` is idempotent: the same id returns the stored result with
  ``duplicateRequest: "Y"`` and never refunds twice (a different prepayId -> 400001).
* The sum of non-rejected refunds never exceeds the order amount (400303).
* At most 10 attempts per order (400302 after that); ``remainingAttempts`` counts down from 10 to 9
  after the first. When it is 1, the next (10th) refund ignores the requested amount and refunds
  everything that remains.
* A refund starts REFUND_PENDING, then succeeds or is rejected (automatically after
  SANDBOX_REFUND_DELAY when SANDBOX_REFUND_AUTO is success/reject, or via the control API). A
  rejected refund releases its amount. Either way a PAY_REFUND webhook with the final status is sent
  (bizId = prepayId of the order, docs/binance-pay.md#biztype-and-bizstatus).
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from sandbox import errors as E
from sandbox import notify, orders
from sandbox.config import SandboxConfig
from sandbox.errors import ApiError
from sandbox.jsonjava import amount8, plain8
from sandbox.store import next_id
from sandbox.validation import RefundRequest

MAX_ATTEMPTS = 10
REFUNDABLE = ("PAID", "REFUNDING", "REFUNDED")
PENDING, SUCCESS, FAIL = "REFUND_PENDING", "REFUND_SUCCESS", "REFUND_FAIL"


def _committed(conn: sqlite3.Connection, prepay_id: str) -> tuple[int, Decimal]:
    rows = conn.execute(
        "SELECT amount, status FROM refunds WHERE prepay_id = ?", (prepay_id,)
    ).fetchall()
    total = sum((Decimal(r["amount"]) for r in rows if r["status"] != FAIL), Decimal(0))
    return len(rows), total


def create(
    conn: sqlite3.Connection, cfg: SandboxConfig, req: RefundRequest, now: int
) -> dict[str, Any]:
    """Refund Order; returns RefundResult ``data``."""
    existing = conn.execute(
        "SELECT * FROM refunds WHERE refund_request_id = ?", (req.refund_request_id,)
    ).fetchone()
    if existing is not None:
        if existing["prepay_id"] != req.prepay_id:
            raise ApiError(
                E.INVALID_REQUEST, "refundRequestId: already used for a different prepayId"
            )
        return result_view(existing, duplicate=True)
    order = orders.load(conn, cfg, now, column="prepay_id", value=req.prepay_id)
    if order is None:
        raise ApiError(E.ORDER_NOT_FOUND, "Order not found.")
    if order["status"] not in REFUNDABLE:
        raise ApiError(
            E.INVALID_ORDER_STATUS, f"Order status is {order['status']}, it cannot be refunded."
        )
    attempts, committed = _committed(conn, req.prepay_id)
    if attempts >= MAX_ATTEMPTS:
        raise ApiError(E.TOO_MANY_REFUND_ATTEMPTS, "Refund attempts exceed the limit of 10.")
    order_amount = Decimal(order["amount"])
    remaining = order_amount - committed
    amount = req.amount
    if MAX_ATTEMPTS - attempts == 1:
        # docs/binance-pay.md#refund-order: the last attempt refunds everything remaining
        amount = remaining
    if amount <= 0 or amount > remaining:
        raise ApiError(
            E.INVALID_REFUND_AMOUNT,
            f"refundAmount: exceeds the refundable amount {plain8(remaining)}",
        )
    complete_at = None
    if cfg.refund_auto != "manual":
        complete_at = now + int(cfg.refund_delay * 1000)
    conn.execute(
        "INSERT INTO refunds(refund_id, refund_request_id, prepay_id, amount, requested_amount,"
        " order_amount, refunded_snapshot, remaining_attempts, payer_open_id, reason, webhook_url,"
        " status, create_time, complete_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(next_id(conn, now)),
            req.refund_request_id,
            req.prepay_id,
            format(amount, "f"),
            format(req.amount, "f"),
            order["amount"],
            format(committed + amount, "f"),
            MAX_ATTEMPTS - attempts - 1,
            order["open_user_id"],
            req.reason,
            req.webhook_url,
            PENDING,
            now,
            complete_at,
        ),
    )
    conn.execute("UPDATE orders SET status = 'REFUNDING' WHERE prepay_id = ?", (req.prepay_id,))
    return result_view(get(conn, req.refund_request_id), duplicate=False)


def get(conn: sqlite3.Connection, refund_request_id: str) -> sqlite3.Row | None:
    """The refund row, or None if unknown."""
    return conn.execute(
        "SELECT * FROM refunds WHERE refund_request_id = ?", (refund_request_id,)
    ).fetchone()


def _info(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "refundRequestId": row["refund_request_id"],
        "prepayId": row["prepay_id"],
        "orderAmount": plain8(Decimal(row["order_amount"])),
        "refundedAmount": plain8(Decimal(row["refunded_snapshot"])),
        "refundAmount": plain8(Decimal(row["amount"])),
    }


def result_view(row: sqlite3.Row, *, duplicate: bool) -> dict[str, Any]:
    """RefundResult (docs/binance-pay.md#refund-order)."""
    return {
        "refundId": int(row["refund_id"]),
        **_info(row),
        "remainingAttempts": row["remaining_attempts"],
        "payerOpenId": row["payer_open_id"],
        "duplicateRequest": "Y" if duplicate else "N",
    }


def query_view(row: sqlite3.Row) -> dict[str, Any]:
    """Query Refund ``data`` (docs/binance-pay.md#query-refund)."""
    return {
        **_info(row),
        "refundedCommission": "0.00000000",
        "refundCommission": "0.00000000",
        "remainingAttempts": row["remaining_attempts"],
        "payerOpenId": row["payer_open_id"],
        "refundStatus": row["status"],
    }


def complete(
    conn: sqlite3.Connection, cfg: SandboxConfig, refund: sqlite3.Row, *, success: bool, now: int
) -> None:
    """Finish a pending refund, update the order status, enqueue the PAY_REFUND webhook."""
    if refund["status"] != PENDING:
        raise orders.StateError(f"refund is {refund['status']}, not pending")
    prepay_id = refund["prepay_id"]
    conn.execute(
        "UPDATE refunds SET status = ?, finished_at = ? WHERE refund_id = ?",
        (SUCCESS if success else FAIL, now, refund["refund_id"]),
    )
    rows = conn.execute(
        "SELECT amount, status FROM refunds WHERE prepay_id = ?", (prepay_id,)
    ).fetchall()
    refunded = sum((Decimal(r["amount"]) for r in rows if r["status"] == SUCCESS), Decimal(0))
    order = conn.execute("SELECT * FROM orders WHERE prepay_id = ?", (prepay_id,)).fetchone()
    if any(r["status"] == PENDING for r in rows):
        status = "REFUNDING"
    elif refunded >= Decimal(order["amount"]):
        status = "FULL_REFUNDED"
    else:
        status = "REFUNDED" if refunded > 0 else "PAID"
    conn.execute("UPDATE orders SET status = ? WHERE prepay_id = ?", (status, prepay_id))
    goods = json.loads(order["goods"])
    info = _info(refund)
    if not success:
        info["refundedAmount"] = plain8(
            sum((Decimal(r["amount"]) for r in rows if r["status"] != FAIL), Decimal(0))
        )
    data = {
        "merchantTradeNo": order["merchant_trade_no"],
        "productType": goods["goodsType"],
        "productName": goods["goodsName"],
        "transactTime": order["transact_time"],
        "tradeType": order["terminal_type"],
        "totalFee": amount8(Decimal(order["amount"])),
        "currency": order["currency"],
        "openUserId": order["open_user_id"],
        "commission": Decimal(order["commission"]),
        # docs/binance-pay.md#refund-data: refundInfo is an object inside the data JSON.
        "refundInfo": {
            **info,
            "remainingAttempts": refund["remaining_attempts"],
            "payerOpenId": refund["payer_open_id"],
            "duplicateRequest": "N",
        },
    }
    notify.enqueue(
        conn,
        cfg,
        biz_type="PAY_REFUND",
        biz_id=prepay_id,
        biz_status="REFUND_SUCCESS" if success else "REFUND_REJECTED",
        data=data,
        url=refund["webhook_url"],
        now=now,
        merchant_trade_no=order["merchant_trade_no"],
        ref=refund["refund_request_id"],
    )


def complete_due(conn: sqlite3.Connection, cfg: SandboxConfig, now: int) -> int:
    """Auto-completion (SANDBOX_REFUND_AUTO): finish pending refunds whose delay has passed."""
    rows = conn.execute(
        "SELECT * FROM refunds WHERE status = 'REFUND_PENDING' AND complete_at <= ? LIMIT 100",
        (now,),
    ).fetchall()
    for row in rows:
        complete(conn, cfg, row, success=cfg.refund_auto != "reject", now=now)
    return len(rows)
