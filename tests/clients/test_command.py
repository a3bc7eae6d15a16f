"""clients/management/commands/create_api_key.py"""

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clients.models import ApiKey, ClientApplication
from clients.scopes import ALL_SCOPES, ORDERS_READ, ORDERS_WRITE
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"psk_live_[A-Za-z0-9_-]{43}")


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_the_key_once_and_stores_only_its_hash():
    out, _ = run("--name", "shop backend")

    keys = KEY_RE.findall(out)
    assert len(keys) == 1
    raw_key = keys[0]
    assert out.count(raw_key) == 1
    assert "cannot be shown again" in out
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert api_key.prefix == raw_key[:16]
    assert f"prefix {api_key.prefix}" in out
    assert api_key.scopes == list(ALL_SCOPES)


def test_creates_the_application_named_after_the_key_and_prints_its_secret_once():
    out, _ = run("--name", "shop", "--notify-url", "https://shop.example/paysvc")

    application = ClientApplication.objects.get()
    assert application.name == "shop"
    assert application.default_notify_url == "https://shop.example/paysvc"
    assert out.count(application.notification_secret) == 1
    assert ApiKey.objects.get().application == application


def test_reuses_an_existing_application_without_printing_its_secret():
    application = ApplicationFactory(name="shop")

    out, err = run(
        "--name", "second key", "--application", "shop", "--notify-url", "https://elsewhere.example"
    )

    assert ClientApplication.objects.count() == 1
    assert ApiKey.objects.get().application == application
    assert application.notification_secret not in out
    assert "left unchanged" in err


def test_stores_the_requested_scopes():
    out, _ = run("--name", "reader", "--scopes", ORDERS_WRITE, ORDERS_READ)

    assert ApiKey.objects.get().scopes == [ORDERS_READ, ORDERS_WRITE]
    assert f"scopes: {ORDERS_READ}, {ORDERS_WRITE}" in out


def test_a_bad_scope_is_named_and_nothing_is_created():
    with pytest.raises(CommandError, match="orders:destroy"):
        run("--name", "shop", "--scopes", ORDERS_READ, "orders:destroy")

    assert not ClientApplication.objects.exists()
    assert not ApiKey.objects.exists()


def test_an_inactive_application_is_refused():
    ApplicationFactory(name="shop", is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        run("--name", "k", "--application", "shop")

    assert not ApiKey.objects.exists()
