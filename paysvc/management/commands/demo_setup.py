"""Create the demo staff user and a fresh demo API key for `make run`. Safe to run again.

API keys are stored hashed and cannot be shown twice, so every run revokes the previous demo key
and prints a new one (the last line of output: `demo API key: psk_live_...`).
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from clients.models import ApiKey, ClientApplication
from clients.services import api_key_create, api_key_revoke, application_create

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a documented local-only demo credential
DEMO_APPLICATION = "demo-shop"
DEMO_KEY_NAME = "make run demo key"


class Command(BaseCommand):
    help = "Create (or reset) the local demo staff user and print a fresh demo API key."

    def handle(self, *args: object, **options: object) -> None:
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
