"""Writes of the back office: staff TOTP devices (django-otp).

Domain writes (orders, refunds, webhook events, notifications) never happen here: admin actions
call the owning app's services.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

PENDING_DEVICE_NAME = "paysvc admin (pending)"
DEVICE_NAME = "paysvc admin"


def totp_devices_confirmed(*, user: Any) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def totp_device_pending(*, user: Any) -> TOTPDevice:
    """The user's unconfirmed device being set up (created on first call, then kept, so that a
    reloaded setup page shows the QR code already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=PENDING_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a pending device with a code from the app. False (and nothing changed) when the
    code is wrong or the device is throttled after wrong codes."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    allowed, _info = device.verify_is_allowed()
    if not allowed or not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.name = DEVICE_NAME
    device.save(update_fields=["confirmed", "name"])
    return True


def totp_device_verify(*, user: Any, token: str) -> TOTPDevice | None:
    """The user's confirmed device that accepts `token` now, or None (throttled devices are
    skipped: django-otp slows guessing down per device)."""
    token = token.strip()
    for device in totp_devices_confirmed(user=user):
        allowed, _info = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            return device
    return None


def totp_device_create_confirmed(*, user: Any, name: str = DEVICE_NAME) -> TOTPDevice:
    """A confirmed device for `user`, made by an operator (manage.py admin_totp_add)."""
    return TOTPDevice.objects.create(user=user, name=name, confirmed=True)
