"""`GET /metrics`: Prometheus text format, merged from every process, plus state gauges.

Apps contribute gauges computed from the database at scrape time by decorating a function with
`@state_gauge`; it returns `(name, help, value)` tuples. A failing gauge is skipped (and logged)
so that one broken query never hides all the other metrics.

Access is limited by network and/or bearer token (`paysvc.metrics_access`): 403 or 401 otherwise.
The Celery worker's own metrics are served by its exporter (`paysvc.worker_metrics`), not here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from paysvc.metrics_access import WWW_AUTHENTICATE, access_error

logger = logging.getLogger(__name__)

Gauge = tuple[str, str, float]
_STATE_GAUGES: list[Callable[[], Iterable[Gauge]]] = []


def state_gauge(func: Callable[[], Iterable[Gauge]]) -> Callable[[], Iterable[Gauge]]:
    """Register a function whose (name, help, value) tuples are exported at every scrape."""
    _STATE_GAUGES.append(func)
    return func


class _StateCollector:
    def collect(self) -> Iterable[GaugeMetricFamily]:
        for func in _STATE_GAUGES:
            try:
                gauges = list(func())
            except Exception:  # a broken gauge must not hide the others
                logger.exception("state gauge %s failed", func.__name__)
                continue
            for name, help_text, value in gauges:
                yield GaugeMetricFamily(name, help_text, value=value)


@never_cache
@require_GET
@sensitive_variables("authorization")
def metrics(request: HttpRequest) -> HttpResponse:
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    remote_addr = request.META.get("REMOTE_ADDR", "")
    refused = access_error(remote_addr=remote_addr, authorization=authorization)
    if refused is not None:
        status, reason = refused
        response = HttpResponse(reason + "\n", status=status, content_type="text/plain")
        if status == 401:
            response["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_StateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
