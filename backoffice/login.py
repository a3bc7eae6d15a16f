"""The admin login form: password, then the TOTP code for staff who have a device."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed

from backoffice.security import USERNAME_FIELD
from backoffice.services import totp_device_verify, totp_devices_confirmed


class AdminLoginForm(AdminAuthenticationForm):
    """Username + password, then the TOTP code for staff who have a confirmed device.

    Without a device the login succeeds unverified; the site then sends the user to set one up
    when PAYSVC_ADMIN_REQUIRE_2FA is on. A wrong code counts as a failed login for django-axes,
    so codes cannot be guessed faster than passwords.
    """

    otp_token = forms.CharField(
        required=False,
        max_length=8,
        label="Authentication code",
        help_text="The 6-digit code from your authenticator app, if you set one up.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "token_required": "Enter the code from your authenticator app.",
        "invalid_token": "That authentication code is not valid (or too many wrong codes: "
        "wait a little).",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # authenticates; axes refuses locked users here
        user = self.get_user()
        if user is None or not totp_devices_confirmed(user=user):
            return cleaned
        token = (cleaned.get("otp_token") or "").strip()
        if not token:
            raise forms.ValidationError(
                self.error_messages["token_required"], code="token_required"
            )
        device = totp_device_verify(user=user, token=token)
        if device is None:
            user_login_failed.send(
                sender=type(self),
                credentials={USERNAME_FIELD: cleaned.get("username", "")},
                request=self.request,
            )
            self.user_cache = None
            raise forms.ValidationError(self.error_messages["invalid_token"], code="invalid_token")
        # django_otp's user_logged_in receiver marks the session verified with this device.
        user.otp_device = device
        return cleaned
