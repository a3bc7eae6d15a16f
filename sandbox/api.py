"""The Binance Pay merchant API (docs/binance-pay.md#response-envelope,
docs/binance-pay.md#result-codes, docs/binance-pay.md#endpoints): a raw WSGI handler, kept lean.

Gateway checks come first and answer like Binance's gateway (docs/binance-pay.md#response-envelope):
a method other than POST, a Content-Type other than ``application/json`` (any parameters such as
``;charset=utf-8`` allowed) or an empty body ->
``{"status":"ERROR","type":"SYS","code":"100001001",...}``; a body over 1 MB -> 400104. Then
``auth.Authenticator``, schema validation (``validation``), and the business rule inside one
``BEGIN IMMEDIATE`` transaction that also records the nonce. Every enveloped answer is HTTP 200
(sandbox choice; docs/binance-pay.md#response-envelope leaves it open).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

from sandbox import errors as E
from sandbox import faults, keys, orders, refunds, shares, validation
from sandbox.auth import Authenticator, claim_nonce
from sandbox.context import Context
from sandbox.errors import ApiError

log = logging.getLogger("sandbox.api")
PREFIX = "/binancepay/openapi"
_UNKNOWN = "An unknown error occurred while processing the request."
MAX_BODY = 1024 * 1024
_OMIT = object()
SYS_ERROR = b'{"status":"ERROR","type":"SYS","code":"100001001","errorData":"System abnormality"}'
_JSON = [("Content-Type", "application/json")]

Handler = Callable[[Context, sqlite3.Connection, Any, int], tuple[Any, Any]]
Parser = Callable[[dict[str, Any], int], Any]
StartResponse = Callable[..., Any]


def _envelope(data: Any, message: Any = "") -> bytes:
    out: dict[str, Any] = {"status": "SUCCESS", "code": E.SUCCESS, "data": data}
    if message is not _OMIT:
        out["errorMessage"] = message
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode()


def fail_body(code: str, message: str) -> bytes:
    """FAIL envelope as Binance sends it (docs/binance-pay.md#response-envelope: no data)."""
    return json.dumps(
        {"status": "FAIL", "code": code, "errorMessage": message}, separators=(",", ":")
    ).encode()


# -- endpoint handlers: (ctx, conn, parsed request, now) -> (data, errorMessage) ----------------
def _certificates(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    rows = keys.list_certs(conn)
    return [{"certSerial": r["serial"], "certPublic": r["cert_public"]} for r in rows], ""


def _create_order(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    data = orders.create(conn, ctx.config, parsed, now)
    # docs/binance-pay.md#create-order: the crypto sample has errorMessage "", the fiat sample omits
    # it.
    return data, (_OMIT if parsed.fiat_currency else "")


def _create_order_v3(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    if ctx.config.channel_partner and parsed.sub_merchant_id is None:
        # docs/binance-pay-v3.md 3.2: mandatory for channel partners (2024-08 changelog).
        raise ApiError(
            E.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "merchant.subMerchantId: required for channel partners",
        )
    return _create_order(ctx, conn, parsed, now)


def _query_order(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    order = orders.load_ref(conn, ctx.config, parsed, now)
    return orders.query_view(order, ctx.config), ""


def _close_order(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    order = orders.load_ref(conn, ctx.config, parsed, now)
    orders.close(conn, ctx.config, order, now)
    return True, None  # docs/binance-pay.md#close-order sample: data true, errorMessage null


def _refund(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    return refunds.create(conn, ctx.config, parsed, now), ""


def _refund_query(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    row = refunds.get(conn, parsed)
    if row is None:
        raise ApiError(E.ORDER_NOT_FOUND, "Refund order not found.")
    return refunds.query_view(row), ""


def _share(ctx: Context, conn: sqlite3.Connection, parsed: Any, now: int) -> tuple:
    return shares.create(conn, ctx.config, parsed, now), _OMIT


def _without_now(parse: Callable[[dict[str, Any]], Any]) -> Parser:
    return lambda body, now: parse(body)


# path -> (schema parser run before the transaction, handler run inside it)
ROUTES: dict[str, tuple[Parser, Handler]] = {
    f"{PREFIX}/certificates": (lambda body, now: None, _certificates),
    f"{PREFIX}/v2/order": (
        lambda body, now: validation.parse_create_order(body, now=now),
        _create_order,
    ),
    f"{PREFIX}/v3/order": (
        lambda body, now: validation.parse_create_order_v3(body, now=now),
        _create_order_v3,
    ),
    f"{PREFIX}/v2/order/query": (_without_now(validation.parse_order_ref), _query_order),
    f"{PREFIX}/order/close": (_without_now(validation.parse_order_ref), _close_order),
    f"{PREFIX}/order/refund": (_without_now(validation.parse_refund), _refund),
    f"{PREFIX}/order/refund/query": (_without_now(validation.parse_refund_query), _refund_query),
    f"{PREFIX}/shareinfo/accountId": (_without_now(validation.parse_share), _share),
}


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The raw body; None when it is larger than MAX_BODY (not read then, when declared)."""
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > MAX_BODY:
        return None
    if length >= 0:
        return stream.read(length) if length else b""
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        data = stream.read(MAX_BODY + 1)
        return None if len(data) > MAX_BODY else data
    return b""


class BinanceApi:
    """WSGI callable for the paths in ``ROUTES``."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        cfg = ctx.config
        self.auth = Authenticator(
            api_key=cfg.api_key,
            secret_key=cfg.secret_key,
            window_ms=cfg.timestamp_window_ms,
            clock=ctx.now,
        )

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        fault = None
        if (
            self.ctx.store.conn()
            .execute("SELECT 1 FROM faults WHERE kind = 'api' AND remaining > 0 LIMIT 1")
            .fetchone()
        ):
            with self.ctx.store.write() as conn:
                fault = faults.take_api_fault(conn, path)
        if fault is not None and not fault["apply"] and fault["mode"] != "delay":
            return self._fault(fault, None, start_response)
        status, body, headers = self.handle(environ, path)
        if fault is not None:
            return self._fault(fault, body, start_response)
        start_response(status, headers)
        return [body]

    def handle(self, environ: dict[str, Any], path: str) -> tuple[str, bytes, list]:
        """Process one call; returns (HTTP status, body, headers)."""
        if environ.get("REQUEST_METHOD") != "POST":
            return "200 OK", SYS_ERROR, _JSON
        media = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            return "200 OK", SYS_ERROR, _JSON
        body = _read_body(environ)
        if body is None:
            return (
                "200 OK",
                fail_body(E.INVALID_REQUEST_TOO_LARGE, "Request body too large."),
                _JSON,
            )
        if not body:
            return "200 OK", SYS_ERROR, _JSON
        parser, handler = ROUTES[path]
        try:
            now = self.ctx.now()
            _, nonce, obj = self.auth.check(environ, body)
            parsed = parser(obj, now)
            with self.ctx.write() as conn:
                claim_nonce(conn, nonce, now)
                data, message = handler(self.ctx, conn, parsed, now)
        except ApiError as exc:
            return "200 OK", fail_body(exc.code, exc.message), _JSON
        except Exception:  # e.g. database locked for too long: outcome unknown, retry later
            log.exception("unexpected error on %s", path)
            return "500 Internal Server Error", fail_body(E.UNKNOWN_ERROR, _UNKNOWN), _JSON
        return "200 OK", _envelope(data, message), _JSON

    def _fault(
        self, fault: sqlite3.Row, body: bytes | None, start_response: StartResponse
    ) -> Iterable[bytes]:
        mode = fault["mode"]
        if mode == "delay":
            time.sleep(fault["seconds"] or 0)
            start_response("200 OK", _JSON)
            return [body or b""]
        if mode == "500":
            start_response("500 Internal Server Error", _JSON)
            return [fail_body(E.UNKNOWN_ERROR, _UNKNOWN)]
        if mode == "429":
            retry_after = fault["retry_after"] if fault["retry_after"] is not None else 1
            start_response(
                "429 Too Many Requests",
                [*_JSON, ("Retry-After", str(int(retry_after)))],
            )
            return [fail_body(E.UNKNOWN_ERROR, "Too many requests, please retry later.")]
        if mode == "timeout":
            time.sleep(fault["seconds"] or 0)
            start_response("504 Gateway Timeout", [("Content-Type", "text/html")])
            return [b"<html><body><h1>504 Gateway Time-out</h1></body></html>"]
        # malformed: valid start, cut in the middle (the real answer when it was processed)
        text = body or b'{"status":"SUCCESS","code":"000000","data":{"prepayId":"1'
        start_response("200 OK", _JSON)
        return [text[: max(1, len(text) // 2)]]
