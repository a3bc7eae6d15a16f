"""Create the demo staff user that `make run` prints. Safe to run again."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a documented local-only demo credential


class Command(BaseCommand):
    help = "Create (or reset) the local demo staff user used by `make run`."

    def handle(self, *args: object, **options: object) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = True
        user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        verb = "created" if created else "reset"
        self.stdout.write(f"demo staff user {verb}: {DEMO_USERNAME} / {DEMO_PASSWORD}")
