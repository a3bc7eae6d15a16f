"""Share Account Id (docs/binance-pay.md#share-account-id, docs/binance-pay.md#share-account-data).

A share request waits for the user's consent on the page at ``qrcodeContent`` for one hour. Only
consent produces a webhook (SHARE_ACCOUNT_ID / SUCCESS, bizId = the share ``id``); declining or
expiring sends nothing (docs/binance-pay.md#share-account-id: no such notification is documented).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

from sandbox import errors as E
from sandbox import notify
from sandbox.config import SandboxConfig
from sandbox.errors import ApiError
from sandbox.orders import StateError
from sandbox.store import next_id
from sandbox.validation import ShareRequest

SHARE_TTL_MS = 3600 * 1000
# The sandbox's one demo user: a stable Binance ID (9-12 digits) and name.
DEMO_USER_BINANCE_ID = "385412619"
DEMO_USER_NAME = "sandbox_user"


def create(
    conn: sqlite3.Connection, cfg: SandboxConfig, req: ShareRequest, now: int
) -> dict[str, Any]:
    share_id = str(next_id(conn, now))
    token, image_id = uuid.uuid4().hex, str(uuid.uuid4())
    content = f"{cfg.public_url}/share/{token}"
    try:
        conn.execute(
            "INSERT INTO shares(id, request_id, sub_merchant_id, webhook_url, token, image_id,"
            " status, create_time, expire_time) VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?)",
            (
                share_id,
                req.request_id,
                req.sub_merchant_id,
                req.webhook_url,
                token,
                image_id,
                now,
                now + SHARE_TTL_MS,
            ),
        )
    except sqlite3.IntegrityError:
        raise ApiError(
            E.REQUEST_ID_INVALID_OR_DUPLICATED, "requestId is invalid or duplicated"
        ) from None
    conn.execute("INSERT INTO images(id, content) VALUES (?, ?)", (image_id, content))
    day = time.strftime("%Y%m%d", time.gmtime(now / 1000))
    return {
        "merchantId": cfg.merchant_id,
        "id": share_id,
        "requestId": req.request_id,
        "expireTime": now + SHARE_TTL_MS,
        "qrcodeContent": content,
        "qrcodeUrl": f"{cfg.public_url}/static/payment/{day}/{image_id}.png",
    }


_BY_COLUMN = {
    column: f"SELECT * FROM shares WHERE {column} = ?"  # noqa: S608 - fixed column names  # nosec B608
    for column in ("id", "request_id", "token")
}


def get(conn: sqlite3.Connection, *, column: str, value: str) -> sqlite3.Row | None:
    return conn.execute(_BY_COLUMN[column], (value,)).fetchone()


def status_of(share: sqlite3.Row, now: int) -> str:
    if share["status"] == "PENDING" and share["expire_time"] <= now:
        return "EXPIRED"
    return share["status"]


def consent(conn: sqlite3.Connection, cfg: SandboxConfig, share: sqlite3.Row, now: int) -> None:
    """The user agrees: SHARED, and the SHARE_ACCOUNT_ID webhook
    (docs/binance-pay.md#share-account-data)."""
    if status_of(share, now) != "PENDING":
        raise StateError(f"share request is {status_of(share, now)}")
    conn.execute(
        "UPDATE shares SET status = 'SHARED', user_binance_id = ?, finished_at = ? WHERE id = ?",
        (DEMO_USER_BINANCE_ID, now, share["id"]),
    )
    notify.enqueue(
        conn,
        cfg,
        biz_type="SHARE_ACCOUNT_ID",
        biz_id=share["id"],
        biz_status="SUCCESS",
        data={
            "requestId": share["request_id"],
            "userBinanceId": DEMO_USER_BINANCE_ID,
            "userName": DEMO_USER_NAME,
        },
        url=share["webhook_url"],
        now=now,
        ref=share["request_id"],
    )


def decline(conn: sqlite3.Connection, share: sqlite3.Row, now: int) -> None:
    if status_of(share, now) != "PENDING":
        raise StateError(f"share request is {status_of(share, now)}")
    conn.execute(
        "UPDATE shares SET status = 'DECLINED', finished_at = ? WHERE id = ?", (now, share["id"])
    )
