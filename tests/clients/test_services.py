"""clients/services.py"""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients import services
from clients.keys import generate_raw_key
from clients.models import ApiKey, ClientApplication
from clients.scopes import ALL_SCOPES, ORDERS_READ, ORDERS_WRITE, REFUNDS_WRITE
from clients.services import (
    api_key_create,
    api_key_revoke,
    api_key_touch,
    application_create,
    application_notification_secret_rotate,
    application_update,
    scopes_validate,
)
from tests.factories import ApplicationFactory, api_key_factory

pytestmark = pytest.mark.django_db


# --- applications ---------------------------------------------------------------------------


def test_application_create_gives_each_application_its_own_secret():
    first = application_create(name="shop", default_notify_url="https://shop.example/hook")
    second = application_create(name="other")

    assert len(first.notification_secret) >= 43
    assert first.notification_secret != second.notification_secret
    first.refresh_from_db()
    assert first.default_notify_url == "https://shop.example/hook"
    assert first.is_active


def test_application_create_refuses_a_taken_name():
    application_create(name="shop")

    with pytest.raises(ValidationError):
        application_create(name="shop")

    assert ClientApplication.objects.count() == 1


def test_application_create_refuses_an_invalid_url():
    with pytest.raises(ValidationError):
        application_create(name="shop", default_notify_url="not a url")

    assert not ClientApplication.objects.exists()


def test_application_notification_secret_rotate_returns_the_new_stored_secret(application):
    old = application.notification_secret

    new = application_notification_secret_rotate(application=application)

    application.refresh_from_db()
    assert new != old
    assert application.notification_secret == new


def test_application_update_changes_only_given_fields(application):
    application_update(application=application, is_active=False)

    application.refresh_from_db()
    assert application.is_active is False
    assert application.name == "shop"


# --- scopes ---------------------------------------------------------------------------------


def test_scopes_validate_defaults_to_every_scope_and_orders_canonically():
    assert scopes_validate(scopes=None) == list(ALL_SCOPES)
    assert scopes_validate(scopes=[REFUNDS_WRITE, ORDERS_READ, ORDERS_READ]) == [
        ORDERS_READ,
        REFUNDS_WRITE,
    ]


def test_scopes_validate_names_each_unknown_scope():
    with pytest.raises(ValidationError) as excinfo:
        scopes_validate(scopes=[ORDERS_READ, "orders:delete", "admin"])

    message = " ".join(excinfo.value.messages)
    assert "orders:delete" in message
    assert "admin" in message


def test_scopes_validate_refuses_an_empty_list():
    with pytest.raises(ValidationError):
        scopes_validate(scopes=[])


# --- api keys -------------------------------------------------------------------------------


def test_api_key_create_returns_the_key_once_and_stores_only_its_hash(application):
    api_key, raw_key = api_key_create(application=application, name="backend")

    assert raw_key.startswith("psk_live_")
    assert len(raw_key) == len("psk_live_") + 43
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(raw_key.encode()).hexdigest()
    assert row["prefix"] == raw_key[:16]
    secret_part = raw_key[12:]
    for column, value in row.items():
        assert secret_part not in str(value), column
    assert not hasattr(api_key, "raw_key")


def test_api_key_create_grants_default_scopes_and_records_the_creator(
    application, django_user_model
):
    user = django_user_model.objects.create_user(username="ops")

    api_key, _ = api_key_create(application=application, name="backend", created_by=user)

    api_key.refresh_from_db()
    assert api_key.scopes == list(ALL_SCOPES)
    assert api_key.created_by == user
    assert api_key.revoked_at is None
    assert api_key.last_used_at is None


def test_api_key_create_stores_the_requested_scopes(application):
    api_key, _ = api_key_create(
        application=application, name="reader", scopes=[ORDERS_WRITE, ORDERS_READ]
    )

    api_key.refresh_from_db()
    assert api_key.scopes == [ORDERS_READ, ORDERS_WRITE]


def test_api_key_create_refuses_an_unknown_scope_and_creates_nothing(application):
    with pytest.raises(ValidationError) as excinfo:
        api_key_create(application=application, name="backend", scopes=["orders:everything"])

    assert "orders:everything" in " ".join(excinfo.value.messages)
    assert not ApiKey.objects.exists()


def test_api_key_create_refuses_an_inactive_application():
    application = ApplicationFactory(is_active=False)

    with pytest.raises(ValidationError):
        api_key_create(application=application, name="backend")

    assert not ApiKey.objects.exists()


def test_api_key_create_refuses_a_blank_name(application):
    with pytest.raises(ValidationError):
        api_key_create(application=application, name="")

    assert not ApiKey.objects.exists()


def test_api_key_create_draws_again_when_the_display_prefix_is_taken(application, monkeypatch):
    _existing, existing_raw = api_key_factory(application=application)
    colliding = existing_raw[:16] + generate_raw_key()[16:]
    fresh = generate_raw_key()
    drawn = iter([colliding, fresh])
    monkeypatch.setattr(services, "generate_raw_key", lambda: next(drawn))

    api_key, raw_key = api_key_create(application=application, name="second")

    assert raw_key == fresh
    assert api_key.prefix == fresh[:16]
    assert ApiKey.objects.count() == 2


def test_api_key_create_logs_the_prefix_never_the_key(application, caplog):
    caplog.set_level(logging.DEBUG)

    api_key, raw_key = api_key_create(application=application, name="backend")

    assert api_key.prefix in caplog.text
    assert raw_key[12:] not in caplog.text
    assert api_key.key_hash not in caplog.text


def test_api_key_revoke_is_idempotent_and_keeps_the_first_date(key_and_raw):
    api_key, _ = key_and_raw

    api_key_revoke(api_key=api_key)
    first = api_key.revoked_at
    api_key_revoke(api_key=api_key)

    api_key.refresh_from_db()
    assert first is not None
    assert api_key.revoked_at == first


def test_api_key_touch_writes_at_most_once_a_minute(key_and_raw, django_assert_num_queries):
    api_key, _ = key_and_raw

    assert api_key_touch(api_key=api_key) is True
    with django_assert_num_queries(0):
        assert api_key_touch(api_key=api_key) is False

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_api_key_touch_writes_again_after_a_minute(key_and_raw):
    api_key, _ = key_and_raw
    long_ago = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=long_ago)
    api_key.refresh_from_db()

    assert api_key_touch(api_key=api_key) is True

    api_key.refresh_from_db()
    assert api_key.last_used_at > long_ago


def test_api_key_touch_from_two_stale_copies_writes_once(key_and_raw):
    api_key, _ = key_and_raw
    copy_a = ApiKey.objects.get(pk=api_key.pk)
    copy_b = ApiKey.objects.get(pk=api_key.pk)

    assert api_key_touch(api_key=copy_a) is True
    assert api_key_touch(api_key=copy_b) is False
