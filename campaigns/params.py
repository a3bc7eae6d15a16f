"""The query string of GET {prefix}/v1/task/completion, checked (anything wrong: 000006).

- ``walletAddress`` (required): the user's unified id, 1-128 visible ASCII characters after
  trimming;
- ``task``: a JSON array of task ids (strings of letters, digits, ``-``, ``_``; at most 50,
  duplicates dropped). Absent, empty or ``[]`` means every active task: the spec makes it
  mandatory but says an empty one asks for all (docs/web3.md#parameters);
- ``recvWindow``, ``timestamp`` (V0.0.6/7; V0.0.8 lists recvWindow but its example sends
  timestamp): non-negative integers when present. When both are present the V0.0.6/7 rule
  applies: ``recvWindow <= 10000`` and ``serverTime - 3000 < timestamp < serverTime +
  recvWindow`` (docs/web3.md#recvwindow-and-timestamp); one alone is not checked further, since
  V0.0.8 dropped the rule and Binance may send either.

A parameter given twice is refused; unknown parameters (e.g. a signature) are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.http import QueryDict

from campaigns.errors import InvalidArgument

MAX_UNIFIED_ID_LENGTH = 128
MAX_TASK_PARAM_LENGTH = 4096
MAX_TASKS = 50
MAX_RECV_WINDOW_MS = 10_000
TIMESTAMP_PAST_TOLERANCE_MS = 3_000

_UNIFIED_ID = re.compile(rf"[!-~]{{1,{MAX_UNIFIED_ID_LENGTH}}}")
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INTEGER = re.compile(r"[0-9]{1,18}")  # fits a signed 64-bit long


@dataclass(frozen=True)
class CompletionQuery:
    unified_id: str
    task_ids: tuple[str, ...]  # empty: all active tasks
    timestamp: int | None
    recv_window: int | None


def _single(query: QueryDict, name: str) -> str | None:
    values = query.getlist(name)
    if len(values) > 1:
        raise InvalidArgument(f"{name} given {len(values)} times")
    return values[0] if values else None


def _integer(query: QueryDict, name: str) -> int | None:
    raw = _single(query, name)
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw):
        raise InvalidArgument(f"{name} is not a non-negative integer")
    return int(raw)


def parse_task_ids(raw: str | None) -> tuple[str, ...]:
    """The task ids of a ``task`` parameter; () for all tasks."""
    if raw is None or not raw.strip():
        return ()
    if len(raw) > MAX_TASK_PARAM_LENGTH:
        raise InvalidArgument(f"task is longer than {MAX_TASK_PARAM_LENGTH} characters")
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidArgument("task is not a JSON array") from None
    if not isinstance(value, list):
        raise InvalidArgument("task is not a JSON array")
    if len(value) > MAX_TASKS:
        raise InvalidArgument(f"task lists more than {MAX_TASKS} tasks")
    ids: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise InvalidArgument("task holds a value that is not a string")
        if not _TASK_ID.fullmatch(item):
            raise InvalidArgument("task holds an id that is blank, too long or not a task id")
        ids[item] = None
    return tuple(ids)


def parse_completion_query(query: QueryDict, *, now_ms: int) -> CompletionQuery:
    """Check the parameters against the rules above; raises InvalidArgument."""
    unified_id = (_single(query, "walletAddress") or "").strip()
    if not unified_id:
        raise InvalidArgument("walletAddress is missing or blank")
    if not _UNIFIED_ID.fullmatch(unified_id):
        raise InvalidArgument(
            "walletAddress is longer than 128 characters or has spaces, control or non-ASCII "
            "characters"
        )
    task_ids = parse_task_ids(_single(query, "task"))
    recv_window = _integer(query, "recvWindow")
    timestamp = _integer(query, "timestamp")
    if recv_window is not None and timestamp is not None:
        if recv_window > MAX_RECV_WINDOW_MS:
            raise InvalidArgument(f"recvWindow is above {MAX_RECV_WINDOW_MS}")
        if not now_ms - TIMESTAMP_PAST_TOLERANCE_MS < timestamp < now_ms + recv_window:
            raise InvalidArgument(f"timestamp {timestamp} is outside the window (server {now_ms})")
    return CompletionQuery(unified_id, task_ids, timestamp, recv_window)
