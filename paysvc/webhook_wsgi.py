"""The Django handler that serves Binance's webhook with fewer middleware (paysvc/wsgi.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import reverse


class WebhookWSGIHandler(WSGIHandler):
    """Django's WSGIHandler whose middleware is ``MIDDLEWARE`` filtered by
    ``PAYSVC_WEBHOOK_MIDDLEWARE`` (in ``MIDDLEWARE``'s order)."""

    def load_middleware(self, is_async: bool = False) -> None:
        full = list(settings.MIDDLEWARE)
        kept = set(settings.PAYSVC_WEBHOOK_MIDDLEWARE)
        unknown = kept.difference(full)
        if unknown:
            raise ValueError(f"PAYSVC_WEBHOOK_MIDDLEWARE names what MIDDLEWARE lacks: {unknown}")
        # Django reads settings.MIDDLEWARE here only: swapped for the build of this handler's
        # chain (at import of the WSGI module, before any request), then restored.
        self.middleware_paths = [path for path in full if path in kept]
        settings.MIDDLEWARE = self.middleware_paths
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def webhook_wsgi_handler() -> WebhookWSGIHandler:
    return WebhookWSGIHandler()


def webhook_paths() -> frozenset[str]:
    """PATH_INFO values served by the lean handler: the webhook URL with and without the slash."""
    path = reverse("webhooks:binance-pay")
    return frozenset({path, path.rstrip("/")})
