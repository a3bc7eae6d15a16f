"""The floor of the order benchmark: POST /api/v1/orders as a bare WSGI function.

No Django, no DRF: the essential work of creating an order and nothing else. Per request:

1. authenticate the Bearer API key by one indexed query (the key's SHA-256 against
   ``clients_apikey.key_hash``, not revoked, application active: paysvc's own lookup);
2. parse the JSON body (a minimal check: an object with ``env``, ``goods`` and an amount);
3. INSERT the order with its Create Order v3 payload (``bench_floor_order``, autocommit: the
   first commit, before Binance is called);
4. the signed Create Order v3 call to the sandbox (``binance_pay.signing``: nonce, HMAC-SHA512)
   over one kept-alive ``http.client`` connection per thread, timed;
5. UPDATE the order with the answer (prepayId, checkout link; the second commit);
6. answer 201 with a small JSON body, and the Binance call's duration in ``X-Binance-Ms`` (what
   the bench subtracts, as it subtracts paysvc's recorded call durations).

No validation rules, timeline, idempotency, rate limit, logs, metrics or middleware: what is left
is gunicorn, psycopg, PostgreSQL and the HTTP call, which paysvc cannot go below on the same
gunicorn settings. Served by bench/orders_create.py with the same gunicorn command line as paysvc
(``gunicorn bench.orders_floor:application``); PostgreSQL only; not part of paysvc.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import threading
import time
import urllib.parse
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from binance_pay.signing import encode_body, signed_headers

TABLE = """
CREATE TABLE IF NOT EXISTS bench_floor_order (
    id bigserial PRIMARY KEY,
    api_key_id bigint NOT NULL,
    merchant_trade_no varchar(32) NOT NULL UNIQUE,
    state varchar(16) NOT NULL,
    request_payload jsonb NOT NULL,
    prepay_id varchar(64) NOT NULL DEFAULT '',
    checkout_url text NOT NULL DEFAULT '',
    answer jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""
_AUTH = (
    "SELECT k.id FROM clients_apikey k JOIN clients_clientapplication a "
    "ON a.id = k.application_id WHERE k.key_hash = %s AND k.revoked_at IS NULL AND a.is_active"
)
_INSERT = (
    "INSERT INTO bench_floor_order (api_key_id, merchant_trade_no, state, request_payload) "
    "VALUES (%s, %s, 'pending', %s) RETURNING id"
)
_UPDATE = (
    "UPDATE bench_floor_order SET state = 'created', prepay_id = %s, checkout_url = %s, "
    "answer = %s, updated_at = now() WHERE id = %s"
)
_PATH = "/binancepay/openapi/v3/order"
_local = threading.local()


def _db() -> psycopg.Connection[Any]:
    conn = getattr(_local, "db", None)
    if conn is None or conn.closed:
        url = re.sub(r"^postgres://", "postgresql://", os.environ["DATABASE_URL"])
        conn = psycopg.Connection.connect(url, autocommit=True)
        _local.db = conn
    return conn


def _binance(body: bytes) -> tuple[dict[str, Any], float]:
    """(answer, seconds) of one signed Create Order v3 call on this thread's connection."""
    base = urllib.parse.urlsplit(os.environ["BINANCE_PAY_BASE_URL"])
    headers = signed_headers(
        api_key=os.environ["BINANCE_PAY_API_KEY"],
        secret=os.environ["BINANCE_PAY_SECRET_KEY"],
        body=body,
    )
    started = time.monotonic()
    for attempt in (1, 2):  # a kept connection the sandbox closed: once more on a new one
        conn = getattr(_local, "http", None)
        if conn is None:
            conn = _local.http = http.client.HTTPConnection(base.hostname, base.port, timeout=4)
        try:
            conn.request("POST", _PATH, body=body, headers=headers)
            response = conn.getresponse()
            answer = json.loads(response.read())
            break
        except (OSError, http.client.HTTPException):
            conn.close()
            _local.http = None
            if attempt == 2:
                raise
    return answer, time.monotonic() - started


def _answer(status: str, body: dict[str, Any], start_response: Any, extra=()) -> list[bytes]:  # type: ignore[no-untyped-def]
    data = json.dumps(body).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *extra],
    )
    return [data]


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ.get("PATH_INFO") == "/healthz":
        return _answer("200 OK", {"ok": True}, start_response)
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if not auth.startswith("Bearer "):
        return _answer("401 Unauthorized", {"code": "not_authenticated"}, start_response)
    db = _db()
    digest = hashlib.sha256(auth[7:].encode()).hexdigest()
    row = db.execute(_AUTH, (digest,)).fetchone()
    if row is None:
        return _answer("401 Unauthorized", {"code": "authentication_failed"}, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = json.loads(environ["wsgi.input"].read(length))
    if not isinstance(data, dict) or "env" not in data or "goods" not in data:
        return _answer("400 Bad Request", {"code": "invalid"}, start_response)
    trade_no = uuid.uuid4().hex
    payload = {
        "env": data["env"],
        "merchantTradeNo": trade_no,
        "orderAmount": data["orderAmount"],
        "currency": data["currency"],
        "description": data["goods"]["goodsName"],
        "goodsDetails": [data["goods"]],
    }
    order_id = db.execute(_INSERT, (row[0], trade_no, Jsonb(payload))).fetchone()[0]  # type: ignore[index]
    answer, seconds = _binance(encode_body(payload))
    result = answer.get("data") or {}
    db.execute(
        _UPDATE,
        (result.get("prepayId", ""), result.get("checkoutUrl", ""), Jsonb(answer), order_id),
    )
    body = {
        "merchantTradeNo": trade_no,
        "prepayId": result.get("prepayId"),
        "status": "INITIAL",
        "checkoutUrl": result.get("checkoutUrl", ""),
        "qrcodeLink": result.get("qrcodeLink", ""),
        "expireTime": result.get("expireTime"),
    }
    ms = f"{seconds * 1000:.3f}"
    return _answer("201 Created", body, start_response, [("X-Binance-Ms", ms)])


def create_table(url: str) -> None:
    """The floor's table (the bench calls it before starting the floor)."""
    url = re.sub(r"^postgres://", "postgresql://", url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TABLE)
