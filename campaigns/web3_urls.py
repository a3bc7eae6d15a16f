"""Routes of the Binance-facing Web3 API, mounted under ``PAYSVC_WEB3_PREFIX`` (default ``/web3``).

paysvc/urls.py adds `web3_route()` to its urlpatterns. The prefix is read when the URLconf is
loaded (process start).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, include, path, re_path

from campaigns import views

DEFAULT_PREFIX = "/web3"
_PREFIX = re.compile(r"[A-Za-z0-9._~/-]*")

app_name = "web3"
urlpatterns = [
    path("v1/time", views.server_time, name="time"),
    path("v1/task/completion", views.task_completion_view, name="task-completion"),
]


def web3_prefix() -> str:
    """The prefix as a route: ``"/web3"`` -> ``"web3/"``; ``""`` or ``"/"`` -> ``""``."""
    raw = getattr(settings, "PAYSVC_WEB3_PREFIX", DEFAULT_PREFIX)
    if raw is None or not _PREFIX.fullmatch(raw):
        raise ImproperlyConfigured(
            f"PAYSVC_WEB3_PREFIX={raw!r}: use a URL path such as '/web3' "
            "(letters, digits, . _ ~ - /)"
        )
    stripped = raw.strip("/")
    return f"{stripped}/" if stripped else ""


def web3_route() -> URLResolver:
    """The include for paysvc/urls.py. Unknown paths under a non-empty prefix answer the envelope
    (404, 000007) instead of the site's 404 page."""
    prefix = web3_prefix()
    patterns = list(urlpatterns)
    if prefix:
        patterns.append(re_path(r"^(?P<rest>.*)$", views.not_found, name="not-found"))
    return path(prefix, include((patterns, app_name), namespace="web3"))
