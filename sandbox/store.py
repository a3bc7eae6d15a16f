"""SQLite persistence: schema, one connection per thread, short write transactions.

Rules: WAL journal, ``busy_timeout``, every write in ``with store.write() as conn:`` which runs
``BEGIN IMMEDIATE`` (the write lock is taken up front, so no deadlock between a reader that wants to
upgrade and a writer). Threads of one process also queue on a process-local lock first, so they
wait on a cheap mutex rather than SQLite's sleeping busy handler. Connections are in autocommit mode
outside ``write()``; each plain read is its own snapshot.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seq (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS certs (
    serial TEXT PRIMARY KEY, cert_public TEXT NOT NULL, private_pem TEXT NOT NULL,
    status TEXT NOT NULL, signing INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, ts INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_ts ON nonces (ts);
CREATE TABLE IF NOT EXISTS orders (
    prepay_id TEXT PRIMARY KEY, merchant_trade_no TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    terminal_type TEXT NOT NULL, currency TEXT NOT NULL, amount TEXT NOT NULL,
    fiat_currency TEXT, fiat_amount TEXT, goods TEXT NOT NULL,
    return_url TEXT, cancel_url TEXT, webhook_url TEXT, pass_through_info TEXT,
    checkout_token TEXT NOT NULL UNIQUE, qr_token TEXT NOT NULL UNIQUE, image_id TEXT NOT NULL,
    create_time INTEGER NOT NULL, expire_time INTEGER NOT NULL, opened_at INTEGER,
    transact_time INTEGER, transaction_id TEXT, open_user_id TEXT, payer_id INTEGER,
    pay_currency TEXT, pay_amount TEXT, pay_price TEXT, commission TEXT NOT NULL DEFAULT '0',
    closed_at INTEGER, api_version TEXT NOT NULL DEFAULT 'v2', description TEXT,
    goods_details TEXT, qr_code_refer_id TEXT);
CREATE INDEX IF NOT EXISTS orders_open_expiry ON orders (expire_time)
    WHERE status IN ('INITIAL', 'PENDING');
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT PRIMARY KEY, refund_request_id TEXT NOT NULL UNIQUE,
    prepay_id TEXT NOT NULL, amount TEXT NOT NULL, requested_amount TEXT NOT NULL,
    order_amount TEXT NOT NULL, refunded_snapshot TEXT NOT NULL,
    remaining_attempts INTEGER NOT NULL,
    payer_open_id TEXT, reason TEXT, webhook_url TEXT, status TEXT NOT NULL,
    create_time INTEGER NOT NULL, complete_at INTEGER, finished_at INTEGER);
CREATE INDEX IF NOT EXISTS refunds_order ON refunds (prepay_id);
CREATE INDEX IF NOT EXISTS refunds_due ON refunds (complete_at) WHERE status = 'REFUND_PENDING';
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, sub_merchant_id TEXT, webhook_url TEXT,
    token TEXT NOT NULL UNIQUE, image_id TEXT NOT NULL, status TEXT NOT NULL,
    create_time INTEGER NOT NULL, expire_time INTEGER NOT NULL, user_binance_id TEXT,
    finished_at INTEGER);
CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, content TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT, biz_type TEXT NOT NULL, biz_id TEXT NOT NULL,
    biz_status TEXT NOT NULL, merchant_trade_no TEXT, ref TEXT, url TEXT, body TEXT NOT NULL,
    orig_headers TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    cycle_start INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
    claimed_until INTEGER, created_at INTEGER NOT NULL, finished_at INTEGER,
    fail_remaining INTEGER NOT NULL DEFAULT 0, after_id INTEGER, same_signature INTEGER,
    fault TEXT);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_at);
CREATE INDEX IF NOT EXISTS notifications_trade ON notifications (merchant_trade_no);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, notification_id INTEGER NOT NULL,
    attempt_no INTEGER NOT NULL, at INTEGER NOT NULL, duration_ms INTEGER, http_status INTEGER,
    response TEXT, outcome TEXT NOT NULL, timestamp TEXT, nonce TEXT, cert_serial TEXT);
CREATE INDEX IF NOT EXISTS attempts_notification ON attempts (notification_id);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, mode TEXT NOT NULL,
    remaining INTEGER NOT NULL, path TEXT, biz_type TEXT, retry_after REAL, seconds REAL,
    apply INTEGER NOT NULL DEFAULT 0, attempts INTEGER, same_signature INTEGER,
    created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS receiver_secrets (
    name TEXT PRIMARY KEY, secrets TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS receiver_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, received_at INTEGER NOT NULL,
    event_id TEXT, event_type TEXT, merchant_trade_no TEXT, headers TEXT NOT NULL,
    body TEXT NOT NULL, verified INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS receiver_events_name ON receiver_events (name, id);
CREATE INDEX IF NOT EXISTS receiver_events_event ON receiver_events (name, event_id);
"""

# Columns added after the first release, with their definitions: ``init_schema`` adds them to a
# database file created before (SANDBOX_DB_PATH survives restarts and upgrades).
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    # Create Order v3 (docs/binance-pay-v3.md): `goods` keeps the first goodsDetails item.
    "orders": (
        ("api_version", "TEXT NOT NULL DEFAULT 'v2'"),
        ("description", "TEXT"),
        ("goods_details", "TEXT"),
        ("qr_code_refer_id", "TEXT"),
    ),
}

# Tables wiped by POST /sandbox/reset. Keys (certs), the id sequence and meta survive, so ids stay
# unique and webhooks stay verifiable by merchants that cached the certificate; so do the demo
# receiver's secrets, which `make run` registers once at start.
STATE_TABLES = (
    "nonces",
    "orders",
    "refunds",
    "shares",
    "images",
    "notifications",
    "attempts",
    "faults",
    "receiver_events",
)


class Store:
    """Owns the database path; hands out one connection per thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:" and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
                timeout=10.0,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction, committed on success, rolled back on error."""
        conn = self.conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def init_schema(self) -> None:
        """Create missing tables, and add ``ADDED_COLUMNS`` missing from an older file."""
        conn = self.conn()
        with self._write_lock:
            conn.executescript(SCHEMA)
        # Checked and altered in one write transaction, so two processes starting on the same
        # old file cannot both add a column.
        with self.write() as conn:
            for table, columns in ADDED_COLUMNS.items():
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, definition in columns:
                    if name not in have:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")

    def reset(self) -> None:
        """Wipe all business state, keep keys, meta and the id sequence."""
        with self.write() as conn:
            for table in STATE_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names  # nosec B608

    def close(self) -> None:
        """Close every connection this Store opened (call before fork and at shutdown)."""
        with self._all_lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()


# Ids are 18-digit decimals like Binance's (docs/binance-pay.md#create-order,
# docs/binance-pay.md#sandbox-choices): time-based so they stay unique after the database is
# deleted, and strictly increasing because the last value is kept in `seq`.
_ID_EPOCH_MS = 1_500_000_000_000
_ID_FLOOR = 100_000_000_000_000_000


def next_id(conn: sqlite3.Connection, now: int, name: str = "id") -> int:
    """Next 18-digit id. Call inside a write transaction."""
    candidate = max(_ID_FLOOR, (now - _ID_EPOCH_MS) * 1_000_000)
    row = conn.execute("SELECT last FROM seq WHERE name = ?", (name,)).fetchone()
    value = candidate if row is None else max(candidate, row[0] + 1)
    conn.execute(
        "INSERT INTO seq(name, last) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET last = excluded.last",
        (name, value),
    )
    return value


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
