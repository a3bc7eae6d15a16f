"""Background work of one sandbox instance: webhook delivery, expiry scanner, refund completion.

Exactly one dispatcher works per database, even with several gunicorn workers: each worker runs a
``Dispatcher`` thread, and only the holder of the lease row in ``meta`` (renewed every second,
valid 3 s) does the work; if that worker dies, another takes over when the lease runs out.
Deliveries are claimed in SQLite (state ``sending`` + ``claimed_until``) before they are sent, so a
restart resumes everything that was pending or in flight.

Delivery (docs/binance-pay.md#webhook-transport, docs/binance-pay.md#webhook-headers,
docs/binance-pay.md#webhook-signature, docs/binance-pay.md#webhook-envelope,
docs/binance-pay.md#webhook-ack-and-retries): POST the stored body with
``Content-Type: application/json; charset=utf-8``, ``User-Agent: okhttp/3.14.9`` and the four
BinancePay headers, RSA-signed over ``ts\\nnonce\\nbody\\n``. Success only on HTTP 200 with JSON
``returnCode == "SUCCESS"``; otherwise retried per SANDBOX_WEBHOOK_RETRY_SCHEDULE (1 attempt + up to
6 retries). Every attempt is written to ``attempts``. Retries are re-signed with a fresh
timestamp/nonce unless SANDBOX_WEBHOOK_RETRY_RESIGN=false, in which case the first attempt's headers
are re-sent.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from sandbox import notify, orders, refunds
from sandbox.context import Context
from sandbox.store import meta_get, meta_set

log = logging.getLogger("sandbox.dispatcher")
LEASE_KEY = "dispatcher_lease"
LEASE_MS = 3000
USER_AGENT = "okhttp/3.14.9"  # docs/binance-pay.md#webhook-transport, real capture


def new_nonce() -> str:
    """32 alphanumerics (base32 of 20 random bytes: A-Z and 2-7)."""
    return base64.b32encode(os.urandom(20)).decode("ascii")


class Dispatcher:
    def __init__(self, ctx: Context, *, pool_size: int = 8) -> None:
        self.ctx = ctx
        self.owner = uuid.uuid4().hex
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = pool_size
        self._http = threading.local()
        self._last_prune = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="sandbox-webhook")
        self._thread = threading.Thread(target=self._loop, name="sandbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.release_lease()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            leader = False
            try:
                leader = self.hold_lease()
                if leader:
                    self.run_once()
            except Exception:  # keep the thread alive whatever one round did
                log.exception("dispatcher round failed")
            self._wake.wait(self.ctx.config.poll_interval if leader else 0.5)
            self._wake.clear()

    # -- lease ---------------------------------------------------------------------------------
    def hold_lease(self) -> bool:
        now = self.ctx.now()
        conn = self.ctx.store.conn()
        current = meta_get(conn, LEASE_KEY)
        if current:
            owner, _, until = current.partition(":")
            if owner == self.owner and int(until) - now > LEASE_MS // 3 * 2:
                return True  # renewed less than a second ago
            if owner != self.owner and int(until) > now:
                return False
        with self.ctx.store.write() as conn:
            current = meta_get(conn, LEASE_KEY)
            if current:
                owner, _, until = current.partition(":")
                if owner != self.owner and int(until) > now:
                    return False
            meta_set(conn, LEASE_KEY, f"{self.owner}:{now + LEASE_MS}")
        return True

    def release_lease(self) -> None:
        try:
            with self.ctx.store.write() as conn:
                if (meta_get(conn, LEASE_KEY) or "").startswith(self.owner + ":"):
                    conn.execute("DELETE FROM meta WHERE key = ?", (LEASE_KEY,))
        except sqlite3.Error:
            pass

    # -- one round -----------------------------------------------------------------------------
    def run_once(self, *, sync: bool = False) -> int:
        """Do every due duty once; returns the number of deliveries started.

        ``sync=True`` delivers in the calling thread (for in-process tests).
        """
        ctx, now = self.ctx, self.ctx.now()
        conn = ctx.store.conn()
        if conn.execute(
            "SELECT 1 FROM orders WHERE status IN ('INITIAL', 'PENDING') AND expire_time <= ?"
            " LIMIT 1",
            (now,),
        ).fetchone():
            with ctx.store.write() as wconn:
                orders.expire_due(wconn, ctx.config, now)
        if conn.execute(
            "SELECT 1 FROM refunds WHERE status = 'REFUND_PENDING' AND complete_at <= ? LIMIT 1",
            (now,),
        ).fetchone():
            with ctx.store.write() as wconn:
                refunds.complete_due(wconn, ctx.config, now)
        if now - self._last_prune > 5000:
            self._last_prune = now
            with ctx.store.write() as wconn:
                wconn.execute(
                    "DELETE FROM nonces WHERE ts < ?", (now - 2 * ctx.config.timestamp_window_ms,)
                )
                # Crash recovery: deliveries claimed by a process that died go back to pending.
                wconn.execute(
                    "UPDATE notifications SET state = 'pending' "
                    "WHERE state = 'sending' AND claimed_until < ?",
                    (now,),
                )
        claimed = self._claim(now)
        for row in claimed:
            if sync or self._pool is None:
                self.deliver(row)
            else:
                self._pool.submit(self.deliver, row)
        return len(claimed)

    def _claim(self, now: int) -> list[sqlite3.Row]:
        conn = self.ctx.store.conn()
        has_held = conn.execute(
            "SELECT 1 FROM notifications WHERE state = 'held' LIMIT 1"
        ).fetchone()
        due = conn.execute(
            "SELECT 1 FROM notifications WHERE state = 'pending' AND next_at <= ? LIMIT 1", (now,)
        ).fetchone()
        if not due and not has_held:
            return []
        until = now + int(self.ctx.config.webhook_timeout * 1000) + 10_000
        with self.ctx.store.write() as wconn:
            if has_held:
                # "reorder" fault: a held notification goes out once a later one has finished.
                wconn.execute(
                    "UPDATE notifications SET state = 'pending', next_at = ? WHERE state = 'held'"
                    " AND EXISTS (SELECT 1 FROM notifications n2 WHERE n2.id > notifications.id"
                    " AND n2.state IN ('delivered', 'failed', 'no_url', 'dropped'))",
                    (now,),
                )
            return wconn.execute(
                "UPDATE notifications SET state = 'sending', claimed_until = ? WHERE id IN ("
                " SELECT n.id FROM notifications n WHERE n.state = 'pending' AND n.next_at <= ?"
                " AND (n.after_id IS NULL OR EXISTS (SELECT 1 FROM notifications o"
                "  WHERE o.id = n.after_id AND o.state IN"
                "  ('delivered', 'failed', 'no_url', 'dropped')))"
                " ORDER BY n.id LIMIT 64) RETURNING *",
                (until, now),
            ).fetchall()

    # -- delivery ------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._http, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.clear()
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept-Encoding"] = "gzip"
            self._http.session = session
        return session

    def _headers(self, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, str]:
        cfg = self.ctx.config
        reuse = row["orig_headers"]
        if row["same_signature"] and row["after_id"]:
            original = conn.execute(
                "SELECT orig_headers FROM notifications WHERE id = ?", (row["after_id"],)
            ).fetchone()
            reuse = original["orig_headers"] if original else None
        elif cfg.webhook_retry_resign:
            reuse = None
        if reuse:
            return json.loads(reuse)
        key = self.ctx.ring.signing_key(conn)
        timestamp, nonce = str(self.ctx.now()), new_nonce()
        return {
            "Content-Type": "application/json; charset=utf-8",
            "BinancePay-Certificate-SN": key.serial,
            "BinancePay-Nonce": nonce,
            "BinancePay-Timestamp": timestamp,
            "BinancePay-Signature": key.sign(timestamp, nonce, row["body"].encode("utf-8")),
        }

    def deliver(self, row: sqlite3.Row) -> None:
        """One attempt for a claimed notification; records it and schedules what comes next."""
        try:
            self._deliver(row)
        except Exception:
            log.exception("delivery of notification %s failed", row["id"])

    def _deliver(self, row: sqlite3.Row) -> None:
        ctx = self.ctx
        conn = ctx.store.conn()
        attempt_no = row["attempts"] + 1
        started = ctx.now()
        status = None
        snippet = None
        headers: dict[str, str] = {}
        if row["fail_remaining"] > 0:
            outcome = "not_sent (webhook fault: network lost it)"
        else:
            headers = self._headers(conn, row)
            t0 = time.monotonic()
            try:
                resp = self._session().post(
                    row["url"],
                    data=row["body"].encode("utf-8"),
                    headers=headers,
                    timeout=ctx.config.webhook_timeout,
                    allow_redirects=False,
                )
                status, snippet = resp.status_code, resp.text[:500]
                outcome = "success" if _acknowledged(resp) else "not_acknowledged"
            except requests.Timeout:
                outcome = "timeout"
            except requests.RequestException as exc:
                outcome = "connection_error"
                snippet = str(exc)[:500]
            duration = int((time.monotonic() - t0) * 1000)
        finished = ctx.now()
        if row["fail_remaining"] > 0:
            duration = 0
        in_cycle = attempt_no - row["cycle_start"]
        schedule = ctx.config.webhook_retry_schedule
        if outcome == "success":
            state, next_at = notify.DELIVERED, row["next_at"]
        elif in_cycle <= len(schedule):
            state, next_at = notify.PENDING, finished + int(schedule[in_cycle - 1] * 1000)
        else:
            state, next_at = notify.FAILED, row["next_at"]
        with ctx.store.write() as wconn:
            wconn.execute(
                "INSERT INTO attempts(notification_id, attempt_no, at, duration_ms, http_status,"
                " response, outcome, timestamp, nonce, cert_serial)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row["id"],
                    attempt_no,
                    started,
                    duration,
                    status,
                    snippet,
                    outcome,
                    headers.get("BinancePay-Timestamp"),
                    headers.get("BinancePay-Nonce"),
                    headers.get("BinancePay-Certificate-SN"),
                ),
            )
            wconn.execute(
                "UPDATE notifications SET state = ?, attempts = ?, next_at = ?,"
                " claimed_until = NULL, finished_at = ?,"
                " fail_remaining = MAX(fail_remaining - 1, 0),"
                " orig_headers = COALESCE(orig_headers, ?) WHERE id = ?",
                (
                    state,
                    attempt_no,
                    next_at,
                    finished if state in notify.FINAL_STATES else None,
                    json.dumps(headers) if headers else None,
                    row["id"],
                ),
            )
        if state in notify.FINAL_STATES:
            self.wake()  # may release a held (reordered) or duplicate notification


def _acknowledged(resp: requests.Response) -> bool:
    """docs/binance-pay.md#webhook-ack-and-retries: HTTP 200 and JSON body with returnCode
    SUCCESS."""
    if resp.status_code != 200:
        return False
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("returnCode") == "SUCCESS"
