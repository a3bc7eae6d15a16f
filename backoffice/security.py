"""Login hardening glue: how django-axes keys failed logins, and the 2FA rule for staff.

Axes counts failures per (username, client IP). Both parts are normalised here so that the
counter cannot be split: usernames by Unicode NFKC + case folding (``Finance``, ``FINANCE`` and
its full-width form are one counter), and the IP is the socket's peer address; ``X-Forwarded-For``
is read only when ``PAYSVC_ADMIN_TRUSTED_PROXIES`` says how many proxies of ours append to it
(docs/reliability.md#42-admin-brute-force: spoofed headers must not reset the counter).
"""

from __future__ import annotations

import ipaddress
import unicodedata
from typing import Any

from django.conf import settings
from django.http import HttpRequest

USERNAME_FIELD = "username"


def normalise_username(username: Any) -> str:
    """The form a username is counted under: NFKC, case-folded, trimmed."""
    if not isinstance(username, str):
        return ""
    return unicodedata.normalize("NFKC", username).casefold().strip()


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: the normalised username of a login attempt.

    Called with the credentials of a failed authentication, and with the request alone when
    axes checks whether a login form post is locked.
    """
    raw: Any = None
    if credentials:
        raw = credentials.get(USERNAME_FIELD)
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get(USERNAME_FIELD)
    return normalise_username(raw)


def client_ip(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the client's address as far as we can trust it.

    With ``PAYSVC_ADMIN_TRUSTED_PROXIES = N`` (> 0) our N proxies each append the address they
    received from to ``X-Forwarded-For``, so the client is the N-th entry from the right; what a
    client wrote further left is its own claim and ignored. With 0 (the default) the header is
    ignored entirely.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = int(settings.PAYSVC_ADMIN_TRUSTED_PROXIES)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


def two_factor_required() -> bool:
    return bool(settings.PAYSVC_ADMIN_REQUIRE_2FA)


def is_verified(user: Any) -> bool:
    """True when the session passed a second factor (django_otp.middleware.OTPMiddleware)."""
    verified = getattr(user, "is_verified", None)
    return bool(verified()) if callable(verified) else False
