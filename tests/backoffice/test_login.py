"""Admin login hardening (docs/reliability.md#42-admin-brute-force): django-axes locks a username+IP
after the configured number of failures; during the cool-off even the right password is refused;
case and Unicode variants of the username and spoofed X-Forwarded-For headers count as the same
attacker."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse

from backoffice.security import axes_username, client_ip, normalise_username
from tests.backoffice.factories import PASSWORD, staff_user


def fullwidth(text: str) -> str:
    """The full-width (FF01-FF5E) form of ASCII letters, e.g. what some IMEs type."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


pytestmark = pytest.mark.django_db
LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")


def login(client: Client, username: str, password: str, **extra: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": INDEX}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def user():
    return staff_user("finance", "Finance")


def test_the_right_password_logs_in(user):
    client = Client()
    response = login(client, "finance", PASSWORD)
    assert response.status_code == 302 and response["Location"] == INDEX
    assert logged_in(client)


def test_20_wrong_passwords_lock_after_5_and_nothing_logs_in_during_the_cool_off(user, settings):
    assert settings.PAYSVC_ADMIN_LOCKOUT_FAILURES == settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    statuses = [login(client, "finance", f"wrong-{i}").status_code for i in range(20)]

    assert statuses[:4] == [200] * 4  # the form again, with an error
    assert statuses[4:] == [429] * 16  # locked from the 5th failure on
    locked = login(client, "finance", PASSWORD)
    assert locked.status_code == 429
    assert 'id="lockout"' in locked.content.decode()
    assert not logged_in(client)
    assert client.get(INDEX).status_code == 302  # still sent to the login page


@pytest.mark.parametrize(
    "variant",
    ["FINANCE", "Finance", " finance ", fullwidth("finance"), fullwidth("FINANCE")],
)
def test_case_and_unicode_variants_are_the_same_counter(user, variant):
    client = Client()
    for name in ("finance", "Finance", "FINANCE", fullwidth("finance"), "finance"):
        login(client, name, "wrong")
    response = login(client, variant, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    assert AccessAttempt.objects.get().username == "finance"


def test_spoofed_x_forwarded_for_does_not_reset_the_counter(user):
    client = Client()
    for i in range(5):
        login(client, "finance", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    response = login(client, "finance", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429
    assert not logged_in(client)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_the_lock_is_per_username_and_address(user):
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for _ in range(5):
        login(attacker, "finance", "wrong")
    colleague = Client(REMOTE_ADDR="192.0.2.10")
    assert login(colleague, "finance", PASSWORD).status_code == 302
    assert logged_in(colleague)


def test_the_configured_limit_is_used(user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    statuses = [login(client, "finance", "wrong").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_after_the_cool_off_the_right_password_works_again(user, settings):
    client = Client()
    for _ in range(5):
        login(client, "finance", "wrong")
    assert login(client, "finance", PASSWORD).status_code == 429
    assert dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME

    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))

    assert login(client, "finance", PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_success_before_the_limit_resets_the_count(user):
    client = Client()
    for _ in range(4):
        login(client, "finance", "wrong")
    assert login(client, "finance", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "finance", "wrong")
    assert login(client, "finance", PASSWORD).status_code == 302


def test_usernames_are_normalised():
    assert normalise_username("  " + fullwidth("FINANCE") + " ") == "finance"
    assert normalise_username("Straße") == normalise_username("STRASSE")
    assert normalise_username(None) == ""
    request = RequestFactory().post(LOGIN, {"username": "Alice"})
    assert axes_username(request, None) == "alice"
    assert axes_username(request, {"username": "BOB"}) == "bob"


def test_x_forwarded_for_is_read_only_behind_trusted_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.20"
    )
    settings.PAYSVC_ADMIN_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.5"
    settings.PAYSVC_ADMIN_TRUSTED_PROXIES = 1
    assert client_ip(request) == "198.51.100.20"  # what our proxy saw, not the client's claim
    settings.PAYSVC_ADMIN_TRUSTED_PROXIES = 3  # fewer entries than proxies: not trusted
    assert client_ip(request) == "10.0.0.5"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="nonsense")
    settings.PAYSVC_ADMIN_TRUSTED_PROXIES = 1
    assert client_ip(garbage) == "10.0.0.5"
