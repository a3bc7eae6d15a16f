"""The dashboard on the admin index, made of sections that the apps register.

``register_dashboard_section(DashboardSection(...))`` is called by an app's admin module: the
orders app contributes payment volumes, conversion, refunds, statuses and the daily chart; the
webhooks app its backlog; the notifications app the merchant callbacks. This module imports none
of them. A section's `compute(now)` returns picklable figures; they are shared by every web
process through the cache and recomputed at most every DASHBOARD_CACHE_SECONDS (a cache outage
only costs the recomputation). Its `template` renders them (as ``data``) as cards of the grid.
A staff member sees the sections whose `permission` they hold.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone

DASHBOARD_CACHE_SECONDS = 60
CACHE_KEY = "backoffice:dashboard:v2:{key}"


@dataclass(frozen=True)
class DashboardSection:
    key: str
    template: str
    compute: Callable[[dt.datetime], Any]
    permission: str
    order: int = 100


@dataclass(frozen=True)
class ShownSection:
    section: DashboardSection
    data: Any
    generated_at: dt.datetime


_sections: dict[str, DashboardSection] = {}


def register_dashboard_section(section: DashboardSection) -> DashboardSection:
    """Add (or replace, by key) a section of the dashboard; returns it."""
    _sections[section.key] = section
    return section


def dashboard_for(user: Any, *, now: dt.datetime | None = None) -> list[ShownSection]:
    """The sections `user` may see, in order, with their (possibly cached) figures."""
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        if user.has_perm(section.permission):
            shown.append(_figures(section, now))
    return shown


def _figures(section: DashboardSection, now: dt.datetime | None) -> ShownSection:
    key = CACHE_KEY.format(key=section.key)
    try:
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation here, never a reason to fail the page
        cached = None
    if isinstance(cached, tuple) and len(cached) == 2:
        return ShownSection(section, cached[1], cached[0])
    at = now or timezone.now()
    data = section.compute(at)
    with contextlib.suppress(Exception):  # see above
        cache.set(key, (at, data), DASHBOARD_CACHE_SECONDS)
    return ShownSection(section, data, at)
