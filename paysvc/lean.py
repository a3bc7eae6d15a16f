"""A shorter middleware stack for hot, stateless endpoints (the Web3 API and the webhook Binance
calls).

Every request through Django's handler runs the whole ``MIDDLEWARE`` list and the URL resolver's
walk over every route. For most of paysvc that is what it should be. A view marked `lean` is
different: it reads no session, no user, no messages, takes no unsafe-method action that CSRF
would guard (it must be CSRF-exempt) and is never a login. For such a view the middleware named in
``PAYSVC_LEAN_SKIPPED_MIDDLEWARE`` does nothing but cost time (about a third of the Web3 endpoint's
CPU in Python, measured: bench/README.md), so `PaysvcWSGIHandler` runs the request through
``MIDDLEWARE`` minus those, in the same order, and takes the view's route from a table built once
(every lean route is checked to resolve to the same view through the full URLconf).

What is kept: every other middleware (correlation id, security headers, X-Frame-Options, common),
so a middleware added later applies to lean views too unless it is listed as skipped; Django's
request signals (connection age and health, ``CONN_MAX_AGE``); the same view, error handling and
404/500 logging as any request. An exact route (no converters) is found in the table; a route
with converters (``orders/<id:...>``) is resolved by the full URLconf, as any request is, and
takes the short stack when the view it resolves to is lean. A path that resolves to no view
takes the full stack (its 404 is the full stack's).

Django's test client uses its own handler (the full stack): tests of the lean path call
`PaysvcWSGIHandler` as a WSGI application (tests/paysvc/test_lean.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import ResolverMatch, RoutePattern
from django.utils.module_loading import import_string

View = TypeVar("View", bound=Callable[..., HttpResponse])

LEAN_ATTRIBUTE = "paysvc_lean"
# Middleware that does nothing for a lean view (see the module docstring for what "lean" asks).
DEFAULT_SKIPPED_MIDDLEWARE = (
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files only: never a view route
    "django.contrib.sessions.middleware.SessionMiddleware",  # lean views read no session
    "django.middleware.csrf.CsrfViewMiddleware",  # lean views are CSRF-exempt (checked)
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # no request.user
    "django_otp.middleware.OTPMiddleware",  # no request.user
    "django.contrib.messages.middleware.MessageMiddleware",  # no messages
    "axes.middleware.AxesMiddleware",  # login lockouts: a lean view is never a login
)


def lean(view: View) -> View:
    """Mark `view` (CSRF-exempt, stateless: the module docstring) for the short stack."""
    if not getattr(view, "csrf_exempt", False):
        raise ImproperlyConfigured(f"{view.__qualname__}: a lean view must be csrf_exempt")
    setattr(view, LEAN_ATTRIBUTE, True)
    return view


def lean_routes() -> dict[str, ResolverMatch]:
    """{path_info: the match the full URLconf gives} for every exact route of a lean view."""
    return _walk_lean_routes()[0]


def lean_prefixes() -> tuple[str, ...]:
    """The literal beginnings (``/api/v1/orders/``) of lean views' routes with converters: a
    path starting with one is resolved to see whether its view is lean."""
    return _walk_lean_routes()[1]


def _walk_lean_routes() -> tuple[dict[str, ResolverMatch], tuple[str, ...]]:
    found: dict[str, ResolverMatch] = {}
    prefixes: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = pattern.pattern
            if not isinstance(route, RoutePattern):
                continue  # a regex: the full stack
            if isinstance(pattern, URLResolver):
                if not route.converters:
                    walk(pattern.url_patterns, prefix + str(route))
            elif isinstance(pattern, URLPattern) and getattr(pattern.callback, LEAN_ATTRIBUTE, 0):
                path = "/" + prefix + str(route)
                if route.converters:
                    prefixes.add(path[: path.index("<")])
                    continue
                match = resolve(path)  # what the full stack would run, earlier routes first
                if match.func is pattern.callback:
                    found[path] = match

    walk(get_resolver().url_patterns, "")
    return found, tuple(sorted(prefixes))


class _LeanHandler(BaseHandler):
    """``MIDDLEWARE`` minus the skipped ones around a fixed route table (sync only, as the
    WSGI handler)."""

    def __init__(self, routes: dict[str, ResolverMatch], prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.routes = routes
        self.prefixes = prefixes
        skipped = set(
            getattr(settings, "PAYSVC_LEAN_SKIPPED_MIDDLEWARE", DEFAULT_SKIPPED_MIDDLEWARE)
        )
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(settings.MIDDLEWARE):
            if path in skipped:
                continue
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def match(self, path: str) -> ResolverMatch | None:
        """The lean view's match for `path`, or None (the full stack serves it)."""
        match = self.routes.get(path)
        if match is not None or not path.startswith(self.prefixes):
            return match
        try:
            match = resolve(path)  # the full stack resolves every request the same way
        except Resolver404:
            return None
        return match if getattr(match.func, LEAN_ATTRIBUTE, False) else None

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        match: ResolverMatch = request.paysvc_lean_match  # type: ignore[attr-defined]
        request.resolver_match = match
        return match


class PaysvcWSGIHandler(WSGIHandler):
    """Django's WSGI handler; requests for a lean route take `_LeanHandler`'s stack."""

    def __init__(self) -> None:
        super().__init__()
        self._lean: _LeanHandler | None = None
        self._lean_lock = threading.Lock()

    def _lean_handler(self) -> _LeanHandler:
        # Built on first use: the URLconf is loaded lazily, as Django does.
        if self._lean is None:
            with self._lean_lock:
                if self._lean is None:
                    self._lean = _LeanHandler(*_walk_lean_routes())
        return self._lean

    def get_response(self, request: HttpRequest) -> HttpResponse:
        handler = self._lean_handler()
        match = handler.match(request.path_info)
        if match is not None:
            request.paysvc_lean_match = match  # type: ignore[attr-defined]
            return handler.get_response(request)
        return super().get_response(request)


def get_wsgi_application() -> PaysvcWSGIHandler:
    """As django.core.wsgi.get_wsgi_application, with `PaysvcWSGIHandler`."""
    django.setup(set_prefix=False)
    return PaysvcWSGIHandler()
