"""`GET /metrics`: Prometheus text format, merged from every process, plus state gauges.

Apps contribute gauges computed from the database at scrape time by decorating a function with
`@state_gauge`; it returns `(name, help, value)` tuples. A failing gauge is skipped (and logged)
so that one broken query never hides all the other metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

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
def metrics(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_StateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
