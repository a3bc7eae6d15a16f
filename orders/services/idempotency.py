"""`Idempotency-Key` handling: the same key and body give the same response, once computed.

Contract (docs/architecture.md#order-creation, step 1):

* The first request with a key inserts an IdempotencyRecord holding a **lease**
  (``locked_until``, ``PAYSVC_IDEMPOTENCY_LEASE_SECONDS``); the unique constraint picks one
  winner among concurrent requests. The winner computes the answer while a background thread
  renews the lease every third of it, then stores the answer and frees the lease.
* A repeat with the same body gets the stored answer (``replayed``), or, while the lease is
  live, at once an `IdempotencyInProgress` (409 ``request_in_progress`` with ``Retry-After`` of
  ``PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS``): no thread waits for another request.
* A lease that lapsed means the request computing it died (its process was killed, or it failed
  unexpectedly and gave the lease back). The next repeat **takes the record over** with one
  conditional UPDATE (so among concurrent repeats exactly one does) and computes with
  ``Claim.taken_over`` set: the caller resumes from ``Claim.resource_ref`` rather than starting
  again (for orders: orders.services.order_intake).
* A repeat with another body is an `IdempotencyConflict` (409).
* Records older than ``PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS`` (24 h, as Stripe keeps keys) are
  deleted by beat (`idempotency_records_prune`) and ignored before that: the key is new again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from orders.errors import IdempotencyConflict, IdempotencyInProgress
from orders.models import IdempotencyRecord

logger = logging.getLogger(__name__)

PRUNE_BATCH = 1000
LEGACY_LEASE = dt.timedelta(seconds=60)
# begin() re-reads this many times when the record changes under it (deleted, taken over).
_ATTEMPTS = 3

__all__ = [
    "Claim",
    "IdempotencyInProgress",
    "idempotency_records_prune",
    "idempotent_response",
    "request_fingerprint",
]


@dataclass
class Claim:
    """The right to compute a key's answer: the record, and the lease token that proves it."""

    record_id: int
    token: str
    created_at: dt.datetime
    taken_over: bool
    resource_ref: str = ""

    def note_resource(self, ref: str) -> None:
        """Record what the work is about before doing it, for a later takeover to resume from."""
        if ref == self.resource_ref:
            return
        self._mine().update(resource_ref=ref)
        self.resource_ref = ref

    def _mine(self) -> Any:
        return IdempotencyRecord.objects.filter(
            pk=self.record_id, lease_token=self.token, completed_at__isnull=True
        )


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def idempotent_response(
    *,
    application: Any,
    key: str,
    fingerprint: str,
    compute: Callable[[Claim], tuple[int, Any]],
    resource_ref: str = "",
) -> tuple[int, Any, bool]:
    """(status, body, replayed).

    Raises IdempotencyConflict for the same key with another body, IdempotencyInProgress while
    another request holds the key's lease. ``compute`` gets the `Claim` (``taken_over`` after a
    dead request); an exception from it gives the lease back and propagates. ``resource_ref``:
    what the work will be about, when known before it starts; a new record is inserted holding
    it, so ``Claim.note_resource`` with the same value writes nothing (a takeover's claim keeps
    the record's own).
    """
    outcome = _begin(
        application=application, key=key, fingerprint=fingerprint, resource_ref=resource_ref
    )
    if not isinstance(outcome, Claim):
        status, body = outcome
        return status, body, True
    try:
        with _lease_kept(outcome):
            status, body = compute(outcome)
    except BaseException:
        # Keep the record (and its resource_ref) so that a repeat takes over at once and resumes.
        _release(outcome)
        raise
    stored = outcome._mine().update(
        response_status=status, response_body=body, completed_at=timezone.now(), locked_until=None
    )
    if not stored:  # our lease lapsed and another request took over; it stores the answer
        logger.warning(
            "idempotency answer not stored: key was taken over record=%s", outcome.record_id
        )
    return status, body, False


def _begin(
    *, application: Any, key: str, fingerprint: str, resource_ref: str = ""
) -> Claim | tuple[int, Any]:
    """A Claim to compute, or the stored (status, body) to replay; raises the two conflicts."""
    for _attempt in range(_ATTEMPTS):
        now = timezone.now()
        token = secrets.token_hex(16)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    application=application,
                    key=key,
                    request_hash=fingerprint,
                    locked_until=now + _lease(),
                    lease_token=token,
                    resource_ref=resource_ref,
                )
            return Claim(
                record.pk, token, record.created_at, taken_over=False, resource_ref=resource_ref
            )
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(application=application, key=key).first()
        if record is None:
            continue  # deleted meanwhile (pruned): insert again
        if record.created_at < now - _ttl() and not _leased(record, now):
            _expired(record).delete()  # past its retention: the key is new again
            continue
        if record.request_hash != fingerprint:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used with a different request body"
            )
        if record.completed_at is not None:
            return int(record.response_status or 200), record.response_body
        if _leased(record, now):
            raise _in_progress(record, now)
        taken = (
            IdempotencyRecord.objects.filter(
                pk=record.pk, lease_token=record.lease_token, completed_at__isnull=True
            )
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .update(locked_until=now + _lease(), lease_token=token)
        )
        if taken:
            logger.warning(
                "idempotency key taken over after its lease lapsed record=%s resource=%s",
                record.pk,
                record.resource_ref or "-",
            )
            return Claim(
                record.pk,
                token,
                record.created_at,
                taken_over=True,
                resource_ref=record.resource_ref,
            )
        # Another repeat took it over (or the answer was stored) between our read and update.
    record = IdempotencyRecord.objects.filter(application=application, key=key).first()
    raise _in_progress(record, timezone.now())


def idempotency_records_prune(*, now: dt.datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete records past ``PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS`` whose lease is not live (beat,
    hourly), in batches of short transactions. Returns how many were deleted."""
    now = now or timezone.now()
    old = IdempotencyRecord.objects.filter(created_at__lt=now - _ttl()).exclude(
        locked_until__gt=now
    )
    deleted = 0
    while ids := list(old.order_by("created_at", "id").values_list("pk", flat=True)[:batch]):
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("idempotency keys pruned count=%d", deleted)
    return deleted


def _expired(record: IdempotencyRecord) -> Any:
    """The record as read, still unleased (a request may have taken it over meanwhile)."""
    return IdempotencyRecord.objects.filter(pk=record.pk, lease_token=record.lease_token).exclude(
        locked_until__gt=timezone.now()
    )


def _leased(record: IdempotencyRecord, now: dt.datetime) -> bool:
    if record.completed_at is not None:
        return False
    if record.locked_until is None and not record.lease_token:
        # Written before leases existed (or by such code during a rolling deploy): that code
        # ran a request for at most gunicorn's 30 s timeout plus its own 30 s wait.
        return record.created_at + LEGACY_LEASE > now
    return record.locked_until is not None and record.locked_until > now


def _in_progress(record: IdempotencyRecord | None, now: dt.datetime) -> IdempotencyInProgress:
    wait = int(settings.PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS)
    if record is not None and record.locked_until is not None:
        # No point asking to come back long after the lease could have lapsed.
        left = math.ceil((record.locked_until - now).total_seconds())
        wait = max(1, min(wait, left))
    return IdempotencyInProgress(
        "a request with this Idempotency-Key is still being processed; send it again after "
        f"{wait} s",
        retry_after=wait,
    )


def _release(claim: Claim) -> None:
    try:
        claim._mine().update(locked_until=None)
    except DatabaseError:  # the lease lapses by itself
        logger.warning("idempotency lease not released record=%s", claim.record_id, exc_info=True)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.PAYSVC_IDEMPOTENCY_LEASE_SECONDS))


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=float(settings.PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS))


@contextmanager
def _lease_kept(claim: Claim) -> Iterator[None]:
    """Renew the claim's lease every third of its length until the block ends.

    A thread, with its own database connection, so that a long Binance call does not lose the
    lease; when the process dies the renewals stop with it and the lease lapses. A failed
    renewal is logged and retried at the next tick.
    """
    stop = threading.Event()
    interval = _lease().total_seconds() / 3

    def renew() -> None:
        try:
            while not stop.wait(interval):
                try:
                    claim._mine().update(locked_until=timezone.now() + _lease())
                except DatabaseError:
                    logger.warning("idempotency lease renewal failed", exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(
        target=renew, name=f"idempotency-lease-{claim.record_id}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
