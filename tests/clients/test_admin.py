"""clients/admin.py"""

import hashlib
import re

import pytest
from django.urls import reverse

from clients.models import ApiKey, ClientApplication
from clients.scopes import ORDERS_READ, REFUNDS_WRITE
from tests.factories import api_key_factory

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"psk_live_[A-Za-z0-9_-]{43}")
ADD_KEY_URL = reverse("admin:clients_apikey_add")
KEYS_URL = reverse("admin:clients_apikey_changelist")
APPS_URL = reverse("admin:clients_clientapplication_changelist")


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_add_key_shows_the_key_once_and_stores_its_hash(staff, application, admin_user):
    form = staff.get(ADD_KEY_URL)
    assert form.status_code == 200
    assert b"Create key" in form.content

    response = staff.post(
        ADD_KEY_URL,
        {
            "application": application.pk,
            "name": "shop backend",
            "scopes": [ORDERS_READ, REFUNDS_WRITE],
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    keys = KEY_RE.findall(page)
    assert len(set(keys)) == 1
    assert "cannot be shown again" in page
    assert "no-store" in response["Cache-Control"]
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hashlib.sha256(keys[0].encode()).hexdigest()
    assert api_key.scopes == [ORDERS_READ, REFUNDS_WRITE]
    assert api_key.created_by == admin_user


def test_the_key_and_its_hash_appear_on_no_other_page(staff, key_and_raw):
    api_key, raw_key = key_and_raw
    pages = [
        staff.get(KEYS_URL),
        staff.get(reverse("admin:clients_apikey_change", args=[api_key.pk])),
        staff.get(ADD_KEY_URL),
    ]

    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert raw_key not in text
        assert api_key.key_hash not in text
    assert api_key.prefix in pages[0].content.decode()


def test_add_key_with_no_scope_shows_the_form_again_and_creates_nothing(staff, application):
    response = staff.post(ADD_KEY_URL, {"application": application.pk, "name": "k", "scopes": []})

    assert response.status_code == 200
    assert not KEY_RE.search(response.content.decode())
    assert not ApiKey.objects.exists()


def test_add_key_needs_the_add_permission(client, django_user_model):
    user = django_user_model.objects.create_user(username="viewer", password="pw", is_staff=True)
    client.force_login(user)

    assert client.get(ADD_KEY_URL).status_code == 403


def test_revoke_action(staff, key_and_raw):
    api_key, _ = key_and_raw
    other, _ = api_key_factory()

    response = staff.post(KEYS_URL, {"action": "revoke", "_selected_action": [api_key.pk]})

    assert response.status_code == 302
    api_key.refresh_from_db()
    other.refresh_from_db()
    assert api_key.revoked_at is not None
    assert other.revoked_at is None


def test_keys_cannot_be_deleted(staff, key_and_raw):
    api_key, _ = key_and_raw

    response = staff.get(reverse("admin:clients_apikey_delete", args=[api_key.pk]))

    assert response.status_code == 403
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_adding_an_application_shows_its_secret_once(staff):
    response = staff.post(
        reverse("admin:clients_clientapplication_add"),
        {
            "name": "shop",
            "default_notify_url": "https://shop.example/hook",
            "is_active": "on",
            "order_api_version": "v2",
        },
    )

    assert response.status_code == 200
    application = ClientApplication.objects.get()
    assert application.order_api_version == "v2"
    assert application.notification_secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    change_page = staff.get(
        reverse("admin:clients_clientapplication_change", args=[application.pk])
    )
    assert application.notification_secret not in change_page.content.decode()


def test_changing_an_application_goes_through_the_service(staff, application):
    url = reverse("admin:clients_clientapplication_change", args=[application.pk])

    response = staff.post(
        url,
        {"name": "shop", "default_notify_url": "", "is_active": "", "order_api_version": "v2"},
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.is_active is False
    assert application.order_api_version == "v2"


def test_rotating_the_notification_secret_shows_the_new_one(staff, application):
    old = application.notification_secret

    response = staff.post(
        APPS_URL, {"action": "rotate_notification_secret", "_selected_action": [application.pk]}
    )

    application.refresh_from_db()
    assert response.status_code == 200
    assert application.notification_secret != old
    assert application.notification_secret in response.content.decode()
    assert APPS_URL in response.content.decode()
    assert staff.get(APPS_URL).content.decode().count(application.notification_secret) == 0
