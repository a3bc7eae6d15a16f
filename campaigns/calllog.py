"""Every Web3 request and its answer, recorded twice (the spec: "each request and response should
be logged in both Binance and partner's sides for further investigation").

1. A structured log line on the ``campaigns.web3`` logger (INFO; WARNING for 000002/000007):
   path, query string, client IP, HTTP status, code, latency, and why, when not a success. It goes
   wherever the deployment sends its logs.
2. A durable record: one JSON line with the full answer (``data``) appended to
   ``<PAYSVC_WEB3_LOG_DIR>/web3-YYYYMMDD.log`` (default ``var/log``, one file per UTC day,
   files older than ``PAYSVC_WEB3_LOG_RETENTION_DAYS``, default 14, deleted).

Why a file and not a table: every call is recorded, not a sample, and it costs one ``write()`` of a
few hundred bytes to the page cache (microseconds), while an INSERT per call would double the
database work of an endpoint that has to answer 1,500 calls a second with one query each.
Why not logging's RotatingFileHandler: several gunicorn workers append to the same file, and
rename-based rotation in one process makes the others write into the renamed file or lose lines.
Here nothing is ever renamed: each process opens the day's file with O_APPEND (each line is one
write(), so lines from several processes do not interleave) and moves to the next day's file when
the date changes. ``PAYSVC_WEB3_LOG_MAX_MB_PER_DAY`` (default 1024) bounds a day's file; past it,
lines are dropped and counted (metric ``paysvc_web3_calllog_dropped_total``) rather than filling
the disk. A failing disk never fails a request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

from campaigns.errors import OTHER_ERROR, SYSTEM_BUSY
from campaigns.metrics import CALLLOG_DROPPED

logger = logging.getLogger("campaigns.web3")

DEFAULT_RETENTION_DAYS = 14
DEFAULT_MAX_MB_PER_DAY = 1024


def log_dir() -> Path:
    configured = getattr(settings, "PAYSVC_WEB3_LOG_DIR", None)
    if configured:
        return Path(configured)
    return Path(getattr(settings, "VAR_DIR", Path("var"))) / "log"


class DailyAppendFile:
    """Append-only JSON lines in one file per UTC day, safe for several processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._day = ""
        self._pid = 0

    def write(self, entry: dict[str, Any], *, now: dt.datetime) -> None:
        line = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()
        try:
            with self._lock:
                fd = self._fd_for(now)
                cap = int(
                    getattr(settings, "PAYSVC_WEB3_LOG_MAX_MB_PER_DAY", DEFAULT_MAX_MB_PER_DAY)
                )
                if cap > 0 and os.fstat(fd).st_size + len(line) > cap * 1024 * 1024:
                    CALLLOG_DROPPED.labels("cap").inc()
                    return
                os.write(fd, line)
        except OSError:
            CALLLOG_DROPPED.labels("error").inc()
            logger.warning("web3 call log not written", exc_info=True)

    def _fd_for(self, now: dt.datetime) -> int:
        day = now.strftime("%Y%m%d")
        if self._fd is not None and day == self._day and self._pid == os.getpid():
            return self._fd
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(
            directory / f"web3-{day}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640
        )
        self._day, self._pid = day, os.getpid()
        self._prune(directory, now)
        return self._fd

    @staticmethod
    def _prune(directory: Path, now: dt.datetime) -> None:
        keep = int(getattr(settings, "PAYSVC_WEB3_LOG_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
        if keep <= 0:
            return
        oldest = (now - dt.timedelta(days=keep)).strftime("%Y%m%d")
        for path in directory.glob("web3-*.log"):
            if path.stem[5:] < oldest:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


durable = DailyAppendFile()


def call_record(
    *,
    method: str,
    path: str,
    query: str,
    ip: str,
    status: int,
    code: str,
    data: Any,
    latency_ms: float,
    reason: str = "",
    customers: int | None = None,
) -> None:
    """Record one call in both places. Never raises."""
    now = dt.datetime.now(dt.UTC)
    entry: dict[str, Any] = {
        "at": now.isoformat(timespec="milliseconds"),
        "method": method,
        "path": path,
        "query": query,
        "ip": ip,
        "status": status,
        "code": code,
        "ms": round(latency_ms, 2),
    }
    if reason:
        entry["reason"] = reason
    if customers is not None:
        entry["customers"] = customers
    level = logging.WARNING if code in (SYSTEM_BUSY, OTHER_ERROR) else logging.INFO
    if logger.isEnabledFor(level):
        logger.log(level, "web3 %s", json.dumps(entry, separators=(",", ":")))
    entry["data"] = data
    durable.write(entry, now=now)
