"""Back-office forms: TOTP setup (the login form: backoffice.login)."""

from __future__ import annotations

from django import forms


class TotpConfirmForm(forms.Form):
    token = forms.CharField(
        max_length=8,
        label="Code from the app",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
