"""Create the demo staff user, a fresh demo API key and the demo webhook endpoint for `make run`.
Safe to run again.

API keys are stored hashed and cannot be shown twice, so every run revokes the previous demo key
and prints a new one (`demo API key: psk_live_...`). With ``--receiver-url`` (the sandbox's demo
receiver, which shows the events it gets and whether their signature verified), the demo
application gets a webhook endpoint there for every event type; its secret is rotated on every
run (no overlap) and printed as `demo endpoint secret: whsec_...` for the launcher to register
with the receiver. The launcher never shows it.
"""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from clients.models import ApiKey, ClientApplication
from clients.services import api_key_create, api_key_revoke, application_create
from notifications.models import ALL_EVENTS
from notifications.selectors import webhook_endpoint_list
from notifications.services import (
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a documented local-only demo credential
DEMO_APPLICATION = "demo-shop"
DEMO_KEY_NAME = "make run demo key"
DEMO_ENDPOINT = "make run demo receiver"


class Command(BaseCommand):
    help = "Create (or reset) the local demo staff user and print a fresh demo API key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--receiver-url", default="", help="the demo webhook endpoint's URL (none if empty)"
        )

    def handle(self, *args: object, **options: Any) -> None:
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        self.stdout.write(f"demo staff user: {DEMO_USERNAME} / {DEMO_PASSWORD}")

        application = ClientApplication.objects.filter(name=DEMO_APPLICATION).first()
        if application is None:
            application = application_create(name=DEMO_APPLICATION)
        for old in ApiKey.objects.filter(
            application=application, name=DEMO_KEY_NAME, revoked_at__isnull=True
        ):
            api_key_revoke(api_key=old)
        _key, raw_key = api_key_create(application=application, name=DEMO_KEY_NAME)
        self.stdout.write(f"demo API key: {raw_key}")
        if options["receiver_url"]:
            secret = self._endpoint(application, options["receiver_url"])
            self.stdout.write(f"demo endpoint secret: {secret}")

    def _endpoint(self, application: ClientApplication, url: str) -> str:
        """The demo endpoint at `url`, with a new secret (returned)."""
        endpoint = next(
            (e for e in webhook_endpoint_list(application=application)
             if e.description == DEMO_ENDPOINT),
            None,
        )  # fmt: skip
        if endpoint is None:
            endpoint = webhook_endpoint_create(
                application=application, url=url, event_types=[ALL_EVENTS],
                description=DEMO_ENDPOINT,
            )  # fmt: skip
            return endpoint.secret
        webhook_endpoint_update(
            endpoint=endpoint, changes={"url": url, "event_types": [ALL_EVENTS], "enabled": True}
        )
        return webhook_endpoint_rotate_secret(endpoint=endpoint, overlap=dt.timedelta(0)).secret
