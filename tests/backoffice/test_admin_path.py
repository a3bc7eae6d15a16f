"""The admin lives at PAYSVC_ADMIN_PATH (docs/reliability.md#43-admin-2fa: not necessarily at
/admin/)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, resolve
from django.urls.resolvers import RegexPattern

from backoffice.urls import admin_path, admin_route


def test_the_default_is_admin(settings):
    assert settings.PAYSVC_ADMIN_PATH == "admin/"
    assert resolve("/admin/login/").url_name == "login"


def test_another_path_serves_the_admin_there(settings):
    settings.PAYSVC_ADMIN_PATH = "ops-7f3a9c/"
    resolver = URLResolver(RegexPattern(r"^/"), [admin_route()])
    assert resolver.resolve("/ops-7f3a9c/login/").url_name == "login"
    assert resolver.resolve("/ops-7f3a9c/orders/order/").url_name == "orders_order_changelist"


@pytest.mark.parametrize("value", ["", "/admin/", "admin", "a//b/"])
def test_a_bad_path_is_refused_with_the_setting_named(settings, value):
    settings.PAYSVC_ADMIN_PATH = value
    with pytest.raises(ImproperlyConfigured, match="PAYSVC_ADMIN_PATH"):
        admin_path()
