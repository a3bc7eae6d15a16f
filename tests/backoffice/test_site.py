"""The admin site's frame: readable app names (django-otp's plugin is "Two-factor devices", not
OTP_TOTP) and header links that lead somewhere real (the API docs, not Django's "View site")."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from backoffice.services import totp_device_create_confirmed
from tests.backoffice.factories import staff_user

pytestmark = pytest.mark.django_db


def test_the_totp_app_is_named_two_factor_devices_everywhere(root):
    index = root.get(reverse("admin:index")).content.decode()
    assert "Two-factor devices" in index
    assert "OTP_TOTP" not in index and "Otp_Totp" not in index and "otp_totp</" not in index
    device = totp_device_create_confirmed(user=staff_user("ops"))
    listing = root.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    assert "Two-factor devices" in listing  # the breadcrumbs
    app_page = root.get(reverse("admin:app_list", kwargs={"app_label": "otp_totp"}))
    assert app_page.status_code == 200 and "Two-factor devices" in app_page.content.decode()
    assert device.key not in listing


def test_django_otp_keeps_its_label_models_and_tables():
    config = apps.get_app_config("otp_totp")
    assert config.name == "django_otp.plugins.otp_totp"
    assert config.verbose_name == "Two-factor devices"
    assert config.get_model("TOTPDevice")._meta.db_table == "otp_totp_totpdevice"


def test_the_header_links_to_the_api_docs_not_to_a_missing_site(root, client):
    for url in (reverse("admin:index"), reverse("admin:orders_order_changelist")):
        page = root.get(url).content.decode()
        assert "View site" not in page, url
        assert f'<a href="{reverse("api-docs")}" id="api-docs-link">API docs</a>' in page, url
    # Django's own password page has its own header links (no "View site" either).
    assert "View site" not in root.get(reverse("admin:password_change")).content.decode()
    assert client.get(reverse("api-docs")).status_code == 200
