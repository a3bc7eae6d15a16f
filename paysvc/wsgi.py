"""WSGI entry point (gunicorn paysvc.wsgi).

Binance's webhook (``/webhooks/binance-pay/``, with or without the slash) is served by a Django
handler of its own whose middleware is only the part of ``MIDDLEWARE`` named in
``PAYSVC_WEBHOOK_MIDDLEWARE`` (issue 9: the rest cost ~0.25 ms of CPU per delivery for nothing).
It keeps the correlation id (structured logs, the task's header), SecurityMiddleware (HTTPS
redirect, response headers) and CommonMiddleware (ALLOWED_HOSTS, refused user agents). It drops
what a server-to-server POST signed by Binance never uses: static files (WhiteNoise), sessions,
CSRF (the view is csrf_exempt anyway), users and OTP devices, messages, X-Frame-Options (a JSON
answer), and django-axes (it only acts on logins). Everything else is the same Django request
cycle: URL resolution, request_started/request_finished (database connections checked and
recycled), the error handlers. Every other path goes through the full ``MIDDLEWARE``.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")

django_application = get_wsgi_application()

from paysvc.webhook_wsgi import webhook_paths, webhook_wsgi_handler  # noqa: E402

webhook_application = webhook_wsgi_handler()
_WEBHOOK_PATHS = webhook_paths()


def application(environ, start_response):  # type: ignore[no-untyped-def]
    """The webhook's paths to the lean handler, everything else to Django's."""
    if environ.get("PATH_INFO") in _WEBHOOK_PATHS:
        return webhook_application(environ, start_response)
    return django_application(environ, start_response)
