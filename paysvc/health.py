"""Liveness and readiness probes.

`/healthz` answers 200 while the process can serve a request; it touches nothing else, so an
orchestrator never restarts web processes because a dependency is down. `/readyz` checks what a
request needs (the database, the Celery broker, and the cache when it is Redis) and answers 503
naming each dependency that failed, so a load balancer stops routing here until they are back.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from paysvc.celery import app as celery_app

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    """Run a trivial query on the default database."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """Open (and close) a connection to the Celery broker, failing fast."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=PROBE_TIMEOUT_SECONDS)


def check_cache() -> None:
    """Round-trip a key through the cache (only meaningful when it is Redis)."""
    cache.set("paysvc:readyz", "1", timeout=10)
    if cache.get("paysvc:readyz") != "1":
        raise RuntimeError("cache did not return the value just written")


def worker_status() -> dict[str, object]:
    """How long ago a Celery worker last ran the heartbeat task (informational, never failing).

    A web process stays ready while workers are away: webhooks are stored and wait for them.
    """
    from paysvc.models import Heartbeat
    from paysvc.tasks import WORKER_HEARTBEAT

    try:
        seen_at = Heartbeat.objects.filter(name=WORKER_HEARTBEAT).values_list("seen_at", flat=True)
        last = seen_at.first()
    except Exception as exc:  # the database check reports database trouble
        return {"error": type(exc).__name__}
    if last is None:
        return {"last_seen_seconds": None}
    return {"last_seen_seconds": round((timezone.now() - last).total_seconds(), 1)}


def _checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": check_database, "broker": check_broker}
    if settings.REDIS_URL:
        checks["cache"] = check_cache
    return checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Process is alive."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; 503 with the failing ones named otherwise."""
    results: dict[str, dict[str, object]] = {}
    for name, check in _checks().items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the reason is reported
            logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    results["worker"] = worker_status()
    failing = sorted(name for name, result in results.items() if result.get("ok") is False)
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": results}
    return JsonResponse(body, status=200 if not failing else 503)
