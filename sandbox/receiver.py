"""Demo merchant endpoint: ``POST /receiver/<name>`` keeps paysvc's events and their verification.

Not part of Binance Pay: it closes the loop of ``make run``, where paysvc's merchant events
(notifications/) go to ``http://127.0.0.1:8090/receiver/demo`` and ``GET /receiver`` shows each one
with a "signature verified" or "not verified: <reason>" badge. Verification is done the way a
merchant does it, with the merchant SDK ``paysvc_webhooks`` (sdk/paysvc-webhooks/) and the secrets
registered for ``<name>`` through the control API; the sandbox still never imports paysvc's apps.

Rules: the body is stored only when it is JSON of at most MAX_BODY_BYTES (else 400/413, nothing
stored); an event is stored and answered 200 whatever its verification result, so that the page
can show it and paysvc does not retry it for a day (a real merchant answers 400 instead). Secrets
are written, counted and used, never returned, rendered or logged.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paysvc_webhooks
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from sandbox.context import Context

MAX_BODY_BYTES = 256 * 1024
MAX_SECRETS = 5  # a rotation needs two; a few more cover a messy one
MAX_SECRET_LENGTH = 256
KEEP_EVENTS = 1000  # per receiver name: the oldest beyond this are dropped
PAGE_EVENTS = 100
TOLERANCE_SECONDS = paysvc_webhooks.DEFAULT_TOLERANCE
NO_SECRET = "no secret registered"  # noqa: S105 - a message, not a secret
VERIFIED = "signature verified"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RECEIPT_RE = re.compile(r"receipt-([0-9]{1,18})")  # detail link of an event without an id
LINKABLE_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,200}")  # paysvc's are evt_<32 hex>
KEPT_HEADERS = ("content-type", "user-agent")  # besides every Paysvc-* header


class ReceiverError(Exception):
    """A request the receiver refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Verdict:
    verified: bool
    reason: str = ""

    @property
    def result(self) -> str:
        return VERIFIED if self.verified else f"not verified: {self.reason}"


def check_name(name: str) -> str:
    """``name`` if it is a receiver name (1-64 of ``A-Za-z0-9_.-``), else ReceiverError(400)."""
    if not NAME_RE.fullmatch(name):
        raise ReceiverError(400, "receiver name: 1-64 characters among A-Z a-z 0-9 _ . -")
    return name


# -- secrets --------------------------------------------------------------------------------------
def parse_secrets(body: Any) -> list[str]:
    """The secrets of a ``{"secrets": [...]}`` control body, or ReceiverError(400)."""
    secrets = body.get("secrets") if isinstance(body, dict) else None
    if (
        not isinstance(secrets, list)
        or not 1 <= len(secrets) <= MAX_SECRETS
        or not all(isinstance(s, str) and 0 < len(s) <= MAX_SECRET_LENGTH for s in secrets)
    ):
        raise ReceiverError(
            400,
            f'body must be {{"secrets": [...]}} with 1-{MAX_SECRETS} non-empty strings '
            f"of at most {MAX_SECRET_LENGTH} characters",
        )
    return list(dict.fromkeys(secrets))  # duplicates would only cost HMACs


def secrets_set(conn: sqlite3.Connection, name: str, secrets: list[str], now: int) -> int:
    """Replace the secrets of receiver ``name``; returns how many it holds now."""
    conn.execute(
        "INSERT INTO receiver_secrets(name, secrets, updated_at) VALUES (?, ?, ?) ON CONFLICT(name)"
        " DO UPDATE SET secrets = excluded.secrets, updated_at = excluded.updated_at",
        (check_name(name), json.dumps(secrets), now),
    )
    return len(secrets)


def secrets_clear(conn: sqlite3.Connection, name: str) -> bool:
    """Forget the secrets of ``name``; False when it had none."""
    cursor = conn.execute("DELETE FROM receiver_secrets WHERE name = ?", (check_name(name),))
    return cursor.rowcount > 0


def secrets_of(conn: sqlite3.Connection, name: str) -> list[str]:
    row = conn.execute("SELECT secrets FROM receiver_secrets WHERE name = ?", (name,)).fetchone()
    return [] if row is None else list(json.loads(row[0]))


def secret_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many secrets each receiver holds (the only thing about them that is ever shown)."""
    rows = conn.execute("SELECT name, secrets FROM receiver_secrets ORDER BY name").fetchall()
    return {r["name"]: len(json.loads(r["secrets"])) for r in rows}


# -- intake ---------------------------------------------------------------------------------------
def check_signature(body: bytes, header: str | None, secrets: list[str], now_ms: int) -> Verdict:
    """Verify with paysvc_webhooks over the raw bytes, as a merchant would."""
    if not secrets:
        return Verdict(False, NO_SECRET)
    try:
        paysvc_webhooks.verify(body, header, secrets, TOLERANCE_SECONDS, now=now_ms / 1000)
    except paysvc_webhooks.SignatureVerificationError as exc:
        return Verdict(False, str(exc))
    return Verdict(True)


def read_body(request: Request) -> bytes:
    """The raw body, or ReceiverError(413) past MAX_BODY_BYTES.

    Read by hand: with ``max_content_length`` Werkzeug truncates a chunked body silently.
    """
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ReceiverError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        chunk = request.stream.read(min(65536, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY_BYTES:
        raise ReceiverError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    return b"".join(chunks)


def kept_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers worth showing: Paysvc-*, Content-Type, User-Agent."""
    return {
        key: value
        for key, value in headers
        if key.lower().startswith("paysvc-") or key.lower() in KEPT_HEADERS
    }


def receive(ctx: Context, name: str, body: bytes, headers: dict[str, str]) -> int:
    """Verify and store one event for receiver ``name``; returns its row id.

    ReceiverError(400) when the body is not UTF-8 JSON (nothing is stored).
    """
    check_name(name)
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ReceiverError(400, "body must be UTF-8 JSON") from None
    lower = {k.lower(): v for k, v in headers.items()}
    event: dict[str, Any] = document if isinstance(document, dict) else {}
    data: dict[str, Any] = event["data"] if isinstance(event.get("data"), dict) else {}
    now = ctx.now()
    with ctx.write() as conn:
        verdict = check_signature(body, lower.get("paysvc-signature"), secrets_of(conn, name), now)
        cursor = conn.execute(
            "INSERT INTO receiver_events(name, received_at, event_id, event_type,"
            " merchant_trade_no, headers, body, verified, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                now,
                _text(event.get("id")) or _text(lower.get("paysvc-event-id")),
                _text(event.get("type")) or _text(lower.get("paysvc-event-type")),
                _text(data.get("merchantTradeNo")),
                json.dumps(headers),
                body.decode("utf-8"),
                int(verdict.verified),
                verdict.reason,
            ),
        )
        row_id = int(cursor.lastrowid or 0)
        conn.execute(
            "DELETE FROM receiver_events WHERE name = ? AND id <= (SELECT id FROM receiver_events"
            " WHERE name = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (name, name, KEEP_EVENTS),
        )
    return row_id


def _text(value: Any) -> str | None:
    """A short display string from an untrusted field (None when absent or not a scalar)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)[:200] or None
    return None


# -- reading --------------------------------------------------------------------------------------
def events(
    conn: sqlite3.Connection, *, name: str | None = None, limit: int = PAGE_EVENTS
) -> list[sqlite3.Row]:
    """Stored events, newest first, of one receiver or of all."""
    if name:
        return conn.execute(
            "SELECT * FROM receiver_events WHERE name = ? ORDER BY id DESC LIMIT ?", (name, limit)
        ).fetchall()
    return conn.execute(
        "SELECT * FROM receiver_events ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()


def events_clear(conn: sqlite3.Connection, *, name: str | None = None) -> int:
    if name:
        return conn.execute("DELETE FROM receiver_events WHERE name = ?", (name,)).rowcount
    return conn.execute("DELETE FROM receiver_events").rowcount


def receipts(conn: sqlite3.Connection, name: str, event_id: str) -> list[sqlite3.Row]:
    """Every receipt of one event (retries and redeliveries share its id), newest first.

    ``receipt-<n>`` names row n: the link of a body that carried no event id.
    """
    match = RECEIPT_RE.fullmatch(event_id)
    if match:
        return conn.execute(
            "SELECT * FROM receiver_events WHERE name = ? AND id = ?", (name, int(match[1]))
        ).fetchall()
    return conn.execute(
        "SELECT * FROM receiver_events WHERE name = ? AND event_id = ? ORDER BY id DESC",
        (name, event_id),
    ).fetchall()


def event_view(row: sqlite3.Row) -> dict[str, Any]:
    """The JSON shape of one stored event (GET /sandbox/receiver/events)."""
    verdict = Verdict(bool(row["verified"]), row["reason"])
    return {
        "id": row["id"],
        "name": row["name"],
        "receivedAt": row["received_at"],
        "eventId": row["event_id"],
        "eventType": row["event_type"],
        "merchantTradeNo": row["merchant_trade_no"],
        "verified": verdict.verified,
        "reason": verdict.reason,
        "result": verdict.result,
        "headers": json.loads(row["headers"]),
        "body": row["body"],
    }


def detail_path(row: sqlite3.Row) -> str:
    """Link of a row's detail page: by event id, or by row when the id is absent or odd."""
    event_id = row["event_id"] or ""
    if LINKABLE_ID_RE.fullmatch(event_id) and not RECEIPT_RE.fullmatch(event_id):
        return f"/receiver/{row['name']}/{event_id}"
    return f"/receiver/{row['name']}/receipt-{row['id']}"


def pretty(text: str) -> str:
    """Indented JSON for the page (the stored text is always JSON)."""
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)


# -- HTTP -----------------------------------------------------------------------------------------
def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


class ReceiverPages:
    """``POST /receiver/<name>``; ``GET /receiver[?name=]`` (= ``GET /receiver/<name>``);
    ``GET /receiver/<name>/<event-id>``."""

    def __init__(self, ctx: Context, render: Callable[..., Response]) -> None:
        self.ctx = ctx
        self.render = render

    def intake(self, request: Request, name: str) -> Response:
        try:
            body = read_body(request)
            receive(self.ctx, name, body, kept_headers(request.headers.items()))
        except ReceiverError as exc:
            return _json({"error": exc.message}, exc.status)
        return _json({"received": True})

    def page(self, request: Request, name: str | None = None) -> Response:
        conn = self.ctx.store.conn()
        name = name or request.args.get("name") or None
        rows = events(conn, name=name)
        return self.render(
            "receiver.html",
            rows=[
                (row, detail_path(row), Verdict(bool(row["verified"]), row["reason"]))
                for row in rows
            ],
            receiver_name=name,
            secret_counts=secret_counts(conn),
            public_url=self.ctx.config.public_url,
        )

    def detail(self, request: Request, name: str, event_id: str) -> Response:
        rows = receipts(self.ctx.store.conn(), name, event_id)
        if not rows:
            raise NotFound()
        return self.render(
            "receiver_event.html",
            receiver_name=name,
            event_id=event_id,
            receipts=[
                {
                    "row": row,
                    "verdict": Verdict(bool(row["verified"]), row["reason"]),
                    "headers": json.dumps(json.loads(row["headers"]), indent=2),
                    "body": pretty(row["body"]),
                }
                for row in rows
            ],
        )
