"""Two-factor login for staff (django-otp TOTP). With PAYSVC_ADMIN_REQUIRE_2FA on, a staff
session that has not passed a second factor reaches no admin page: without a device it is sent to
set one up; a user with a device must give its code at login (whether or not 2FA is required)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.services import totp_device_create_confirmed
from tests.backoffice.factories import PASSWORD, staff_user

pytestmark = pytest.mark.django_db
LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
SETUP = reverse("admin:otp_setup")
ORDERS = reverse("admin:orders_order_changelist")


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def login(client: Client, username: str, token: str = "") -> object:
    return client.post(
        LOGIN, {"username": username, "password": PASSWORD, "otp_token": token, "next": INDEX}
    )


@pytest.fixture
def required(settings):
    settings.PAYSVC_ADMIN_REQUIRE_2FA = True


def test_without_a_device_staff_are_sent_to_set_one_up_and_reach_nothing_else(required):
    staff_user("support", "Support")
    client = Client()
    assert login(client, "support").status_code == 302  # password accepted, not verified

    for url in (INDEX, ORDERS, reverse("admin:webhooks_webhookevent_changelist")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP), url


def test_setting_up_a_device_opens_the_admin(required):
    staff_user("support", "Support")
    client = Client()
    login(client, "support")

    page = client.get(SETUP)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    body = page.content.decode()
    assert '<div class="bo-qr" id="otp-qr"><svg' in body
    device = TOTPDevice.objects.get(user__username="support", confirmed=False)
    assert client.get(SETUP).context["manual_key"]  # same pending device on reload
    assert TOTPDevice.objects.filter(user__username="support").count() == 1

    wrong = client.post(SETUP, {"token": "000000" if code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    # django-otp now throttles the device for a second; skip the wait.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    done = client.post(SETUP, {"token": code(device), "next": ORDERS})

    assert done.status_code == 302 and done["Location"] == ORDERS
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(INDEX).status_code == 200
    assert client.get(ORDERS).status_code == 200


def test_a_user_with_a_device_needs_its_code_to_log_in(required):
    user = staff_user("finance", "Finance")
    device = totp_device_create_confirmed(user=user)

    no_code = Client()
    response = login(no_code, "finance")
    assert response.status_code == 200 and "Enter the code" in response.content.decode()
    assert "_auth_user_id" not in no_code.session

    right = Client()
    assert login(right, "finance", code(device)).status_code == 302
    assert right.get(INDEX).status_code == 200

    wrong = Client()
    bad = "123456" if code(device, 1) != "123456" else "654321"
    assert login(wrong, "finance", bad).status_code == 200
    assert "_auth_user_id" not in wrong.session
    assert AccessAttempt.objects.get().failures_since_start == 1  # counted by axes
    # django-otp then slows this device down (1 s, 2 s, 4 s, ...): no rapid guessing.
    assert not TOTPDevice.objects.get(pk=device.pk).verify_is_allowed()[0]


def test_the_device_is_asked_for_even_when_2fa_is_not_required(settings):
    settings.PAYSVC_ADMIN_REQUIRE_2FA = False
    user = staff_user("finance", "Finance")
    device = totp_device_create_confirmed(user=user)
    client = Client()
    assert login(client, "finance").status_code == 200
    assert login(client, "finance", code(device)).status_code == 302


def test_without_the_requirement_staff_without_a_device_get_in(settings):
    settings.PAYSVC_ADMIN_REQUIRE_2FA = False
    staff_user("support", "Support")
    client = Client()
    login(client, "support")
    assert client.get(INDEX).status_code == 200


def test_an_unverified_session_cannot_add_a_device_to_a_user_who_has_one(settings):
    settings.PAYSVC_ADMIN_REQUIRE_2FA = False
    user = staff_user("finance", "Finance")
    client = Client()
    client.force_login(user)  # e.g. a session from before the device existed
    totp_device_create_confirmed(user=user)
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()


def test_an_unverified_session_can_log_out(required):
    staff_user("support", "Support")
    client = Client()
    login(client, "support")
    client.post(reverse("admin:logout"))
    assert "_auth_user_id" not in client.session


def test_the_setup_page_needs_a_staff_login():
    anonymous = Client().get(SETUP)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(LOGIN)


def test_the_command_adds_a_confirmed_device(tmp_path):
    from django.core.management import call_command

    staff_user("ops")
    svg = tmp_path / "qr.svg"
    call_command("admin_totp_add", "ops", "--svg", str(svg))
    assert svg.read_text().startswith("<?xml") or "<svg" in svg.read_text()
    assert TOTPDevice.objects.get(user__username="ops").confirmed
