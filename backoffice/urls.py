"""The admin's URL route, at PAYSVC_ADMIN_PATH (docs/reliability.md#43-admin-2fa: not at a guessable
/admin/)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, path


def admin_path() -> str:
    """PAYSVC_ADMIN_PATH, checked: relative, ends with "/", e.g. "ops-7f3a/"."""
    value = str(settings.PAYSVC_ADMIN_PATH).strip()
    if not value or value.startswith("/") or not value.endswith("/") or "//" in value:
        raise ImproperlyConfigured(
            f'PAYSVC_ADMIN_PATH must be a relative path ending in "/", e.g. "admin/"; got {value!r}'
        )
    return value


def admin_route() -> URLResolver:
    return path(admin_path(), admin.site.urls)
