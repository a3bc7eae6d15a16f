"""Binance's webhook certificates: fetched from Query Certificates, cached, refreshed on rotation.

The key that verifies a webhook is the ``certPublic`` whose ``certSerial`` equals the
``BinancePay-Certificate-SN`` header, from the list Binance itself returns
(docs/binance-pay.md#query-certificates, docs/binance-pay.md#gotcha-certificate-rotation): never a
key or URL taken from the request.

Three layers, so that the hot path does no I/O:

1. this process's memory (a snapshot of the list and when it was fetched);
2. the Django cache (Redis in production), shared by every web process;
3. Binance, asked only when a serial is unknown or the list is older than
   ``BINANCE_PAY_CERT_CACHE_SECONDS``, and then by one process at a time at most once per
   ``BINANCE_PAY_CERT_REFETCH_SECONDS`` (``cache.add`` is the cross-process lock). A flood of
   deliveries with made-up serials therefore costs Binance one call per interval, not one per
   request (docs/reliability.md#6-unknown-serial-flood); and each process looks beyond its memory
   for an unknown serial at most once a second, so such a flood costs no I/O either.

An old list keeps being used while a refresh is impossible. When the serial is unknown and
Binance cannot be asked (the last fetch failed), the caller answers 5xx so that Binance retries
(docs/reliability.md#7-certificates-endpoint-down) rather than a final refusal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from binance_pay import BinancePayError, SignatureError, load_public_key
from paysvc import clock
from paysvc.integrations import binance_client

logger = logging.getLogger(__name__)

T = TypeVar("T")

CACHE_KEY = "webhooks:certificates:v1"
REFETCH_LOCK_KEY = "webhooks:certificates:refetch"
FETCH_FAILED_KEY = "webhooks:certificates:fetch-failed"
# The shared copy outlives its freshness so that a stale list can still be served when Binance
# is unreachable at refresh time.
SHARED_TIMEOUT_SECONDS = 7 * 24 * 3600
# With no list at all (first requests after a cold start), wait this long for the one fetch in
# progress rather than refuse genuine deliveries. Never waited once a list is known, so a flood
# of made-up serials costs no waiting.
COLD_START_WAIT_SECONDS = 3.0


class UnknownCertificate(Exception):
    """The serial is not in Binance's current list (a forgery, or a retired key)."""


class CertificatesUnavailable(Exception):
    """The serial is unknown and Binance's list cannot be fetched right now: try again later."""


@dataclass(frozen=True)
class CertificateSet:
    """``certificates`` maps ``certSerial`` to ``certPublic`` PEM; ``fetched_at_ms`` is epoch ms."""

    certificates: Mapping[str, str]
    fetched_at_ms: int

    def is_fresh(self) -> bool:
        max_age_ms = int(settings.BINANCE_PAY_CERT_CACHE_SECONDS) * 1000
        return clock.now_ms() - self.fetched_at_ms < max_age_ms


_local: CertificateSet | None = None
_local_lock = threading.Lock()
# Used only when the shared cache itself fails: each process then refetches at most once per
# interval on its own.
_local_refetch_after = 0.0
# Unknown serials: how often this process looks beyond its memory, and what it last learnt.
LOOK_FURTHER_SECONDS = 1.0
_look_further_after = 0.0
_last_fetch_failed = False


def certificate_pem(serial: str) -> str:
    """The trusted PEM for ``serial``. Raises UnknownCertificate or CertificatesUnavailable."""
    snapshot = _local
    if snapshot is not None and serial in snapshot.certificates and snapshot.is_fresh():
        return snapshot.certificates[serial]
    if snapshot is not None and not _may_look_further():
        # Looked (shared cache, refetch slot) less than a second ago: answer from memory, so
        # that a flood of made-up serials costs no I/O at all.
        return _without_fetch(serial, snapshot, failed=_last_fetch_failed)
    # Another process may have refreshed the shared list already (e.g. after a rotation).
    shared = _shared_get()
    if shared is not None:
        _set_local(shared)
        if serial in shared.certificates and shared.is_fresh():
            return shared.certificates[serial]
    known = shared or snapshot
    if not _take_refetch_slot():
        if known is None and not _fetch_failed_recently():
            known = _wait_for_first_list()  # cold start: another caller is fetching it now
        return _without_fetch(serial, known)
    try:
        fetched = _fetch()
    except (BinancePayError, ImproperlyConfigured) as exc:
        _set_fetch_failed(True)
        _safe_cache(lambda: cache.set(FETCH_FAILED_KEY, 1, _refetch_seconds()), None)
        logger.warning("fetching Binance certificates failed: %s", exc)
        return _without_fetch(serial, known, failed=True)
    _set_fetch_failed(False)
    certificates_store(fetched.certificates, fetched_at_ms=fetched.fetched_at_ms)
    if serial in fetched.certificates:
        return fetched.certificates[serial]
    raise UnknownCertificate(serial)


def _wait_for_first_list() -> CertificateSet | None:
    """Poll the shared cache briefly for the list another caller is fetching."""
    deadline = time.monotonic() + COLD_START_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        shared = _shared_get()
        if shared is not None:
            _set_local(shared)
            return shared
    return None


def _without_fetch(serial: str, known: CertificateSet | None, *, failed: bool | None = None) -> str:
    """Answer from ``known``; ``failed`` None means "ask the shared cache whether the last
    fetch failed"."""
    if known is not None and serial in known.certificates:
        return known.certificates[serial]  # stale, but Binance's last word
    if failed if failed is not None else _fetch_failed_recently():
        raise CertificatesUnavailable(serial)
    raise UnknownCertificate(serial)


def _fetch_failed_recently() -> bool:
    failed = bool(_safe_cache(lambda: cache.get(FETCH_FAILED_KEY), None))
    _set_fetch_failed(failed)
    return failed


def _may_look_further() -> bool:
    """True at most once per LOOK_FURTHER_SECONDS in this process."""
    global _look_further_after
    with _local_lock:
        now = time.monotonic()
        if now < _look_further_after:
            return False
        _look_further_after = now + LOOK_FURTHER_SECONDS
        return True


def _set_fetch_failed(failed: bool) -> None:
    global _last_fetch_failed
    _last_fetch_failed = failed


def certificates_store(
    certificates: Mapping[str, str], *, fetched_at_ms: int | None = None
) -> None:
    """Replace the trusted list (shared cache and this process). Tests seed it with this."""
    snapshot = CertificateSet(
        certificates=dict(certificates),
        fetched_at_ms=clock.now_ms() if fetched_at_ms is None else fetched_at_ms,
    )
    payload = {"certificates": dict(snapshot.certificates), "fetched_at_ms": snapshot.fetched_at_ms}
    _safe_cache(lambda: cache.set(CACHE_KEY, payload, SHARED_TIMEOUT_SECONDS), None)
    _set_local(snapshot)


def certificates_forget() -> None:
    """Drop every cached list, lock and failure mark (tests; or after revoking a key by hand)."""
    global _local, _local_refetch_after, _look_further_after, _last_fetch_failed
    with _local_lock:
        _local = None
        _local_refetch_after = 0.0
        _look_further_after = 0.0
        _last_fetch_failed = False
    _safe_cache(lambda: cache.delete_many([CACHE_KEY, REFETCH_LOCK_KEY, FETCH_FAILED_KEY]), None)


def _fetch() -> CertificateSet:
    """Ask Binance (docs/binance-pay.md#query-certificates). Entries whose key cannot be used are
    left out."""
    fetched_at_ms = clock.now_ms()
    certificates: dict[str, str] = {}
    for certificate in binance_client().query_certificates():
        try:
            load_public_key(certificate.cert_public)
        except SignatureError as exc:
            logger.warning("ignoring Binance certificate %s: %s", certificate.cert_serial, exc)
            continue
        if not certificate.serial_matches_public_key:
            logger.warning(
                "Binance certificate %s: serial is not the MD5 of its key", certificate.cert_serial
            )
        certificates[certificate.cert_serial.upper()] = certificate.cert_public
    logger.info("fetched Binance certificates serials=%s", ",".join(sorted(certificates)))
    return CertificateSet(certificates=certificates, fetched_at_ms=fetched_at_ms)


def _take_refetch_slot() -> bool:
    """True for at most one caller per refetch interval, across processes."""
    global _local_refetch_after
    seconds = _refetch_seconds()
    try:
        return bool(cache.add(REFETCH_LOCK_KEY, 1, seconds))
    except Exception:  # the shared cache is down: fall back to one refetch per process
        logger.warning("cache unavailable for the certificate refetch lock", exc_info=True)
        with _local_lock:
            now = time.monotonic()
            if now < _local_refetch_after:
                return False
            _local_refetch_after = now + seconds
            return True


def _refetch_seconds() -> int:
    return int(settings.BINANCE_PAY_CERT_REFETCH_SECONDS)


def _shared_get() -> CertificateSet | None:
    payload: Any = _safe_cache(lambda: cache.get(CACHE_KEY), None)
    if not isinstance(payload, dict):
        return None
    try:
        return CertificateSet(
            certificates=dict(payload["certificates"]), fetched_at_ms=int(payload["fetched_at_ms"])
        )
    except (KeyError, TypeError, ValueError):
        return None


def _set_local(snapshot: CertificateSet) -> None:
    global _local
    with _local_lock:
        _local = snapshot


def _safe_cache(call: Callable[[], T], default: T) -> T:
    """A cache call that degrades to ``default`` when the cache (Redis) is down."""
    try:
        return call()
    except Exception:
        logger.warning("cache unavailable for webhook certificates", exc_info=True)
        return default
