"""`Idempotency-Key` handling: the same key and body give the same response, once computed.

The first request with a key inserts an IdempotencyRecord (the unique constraint decides the
winner among concurrent requests), computes its response and stores it. Every other request
with that key waits for the stored response and replays it; one with a different body gets 409.
If computing fails with an unexpected error the record is removed so that a retry can run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.errors import IdempotencyConflict
from orders.models import IdempotencyRecord

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05


class IdempotencyInProgress(IdempotencyConflict):
    """The first request with this key is still running after WAIT_SECONDS."""


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def idempotent_response(
    *,
    application: Any,
    key: str,
    fingerprint: str,
    compute: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """(status, body, replayed). Raises IdempotencyConflict for the same key with another body."""
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                application=application, key=key, request_hash=fingerprint
            )
    except IntegrityError:
        return (*_replay(application=application, key=key, fingerprint=fingerprint), True)
    try:
        status, body = compute()
    except Exception:
        record.delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=status, response_body=body, completed_at=timezone.now()
    )
    return status, body, False


def _replay(*, application: Any, key: str, fingerprint: str) -> tuple[int, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = IdempotencyRecord.objects.filter(application=application, key=key).first()
        if record is None:
            raise IdempotencyInProgress(
                "the first request with this Idempotency-Key failed; send it again"
            )
        if record.request_hash != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request body"
            )
        if record.completed_at is not None:
            return int(record.response_status or 200), record.response_body
        if time.monotonic() > deadline:
            raise IdempotencyInProgress(
                "a request with this Idempotency-Key is still being processed; retry later"
            )
        time.sleep(POLL_SECONDS)
