"""Fault injection state (control API ``/sandbox/faults`` and ``/sandbox/webhook-faults``).

Faults live in SQLite so every gunicorn worker sees them; each matching call consumes one unit of
``remaining`` atomically. API faults are taken by ``api.py`` per Binance call; webhook faults by
``notify.enqueue`` per notification.
"""

from __future__ import annotations

import sqlite3
from typing import Any

API_MODES = ("500", "429", "timeout", "malformed", "delay")
WEBHOOK_MODES = ("drop", "duplicate", "delay", "reorder", "fail")


class FaultSpecError(ValueError):
    pass


def _num(spec: dict[str, Any], key: str, default: float | None) -> float | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultSpecError(f"{key} must be a non-negative number")
    return float(value)


def add(conn: sqlite3.Connection, kind: str, spec: dict[str, Any], now: int) -> int:
    """Validate and store a fault; returns its id."""
    modes = API_MODES if kind == "api" else WEBHOOK_MODES
    mode = str(spec.get("mode", ""))
    if mode not in modes:
        raise FaultSpecError(f"mode must be one of {', '.join(modes)}")
    count = spec.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultSpecError("count must be a positive integer")
    path = spec.get("path")
    biz_type = spec.get("bizType")
    if path is not None and not isinstance(path, str):
        raise FaultSpecError("path must be a string")
    if biz_type is not None and not isinstance(biz_type, str):
        raise FaultSpecError("bizType must be a string")
    default_seconds = {"timeout": 30.0, "delay": 2.0}.get(mode)
    seconds = _num(spec, "seconds", default_seconds)
    retry_after = _num(spec, "retryAfter", 1.0 if mode == "429" else None)
    attempts = _num(spec, "attempts", 1.0 if mode == "fail" else None)
    cur = conn.execute(
        "INSERT INTO faults(kind, mode, remaining, path, biz_type, retry_after, seconds, apply,"
        " attempts, same_signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            mode,
            count,
            path,
            biz_type,
            retry_after,
            seconds,
            1 if spec.get("apply") else 0,
            None if attempts is None else int(attempts),
            1 if spec.get("sameSignature") else 0,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


def take_api_fault(conn: sqlite3.Connection, path: str) -> sqlite3.Row | None:
    """Consume one unit of the oldest active API fault whose path filter matches ``path``."""
    rows = conn.execute(
        "SELECT * FROM faults WHERE kind = 'api' AND remaining > 0 ORDER BY id"
    ).fetchall()
    for row in rows:
        if row["path"] and not path.endswith(row["path"]):
            continue
        cur = conn.execute(
            "UPDATE faults SET remaining = remaining - 1 WHERE id = ? AND remaining > 0",
            (row["id"],),
        )
        if cur.rowcount:
            return row
    return None


def active(conn: sqlite3.Connection, kind: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT * FROM faults WHERE kind = ? AND remaining > 0 ORDER BY id", (kind,)
    ).fetchall()
    return [
        {
            "id": r["id"],
            "mode": r["mode"],
            "remaining": r["remaining"],
            "path": r["path"],
            "bizType": r["biz_type"],
            "retryAfter": r["retry_after"],
            "seconds": r["seconds"],
            "apply": bool(r["apply"]),
            "attempts": r["attempts"],
            "sameSignature": bool(r["same_signature"]),
        }
        for r in rows
    ]


def clear(conn: sqlite3.Connection, kind: str) -> int:
    return conn.execute("DELETE FROM faults WHERE kind = ?", (kind,)).rowcount
