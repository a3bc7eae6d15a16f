"""``manage.py create_api_key``: create an API key (and its application if missing), show it."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from clients.models import ClientApplication
from clients.scopes import ALL_SCOPES
from clients.services import api_key_create, application_create, scopes_validate


class Command(BaseCommand):
    help = (
        "Create an API key for a client application (created when missing) and print the key "
        "once. Only its hash is stored: it cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Name of the key, e.g. 'shop backend'.")
        parser.add_argument(
            "--application",
            help="Name of the client application (default: the key's --name). Created if missing.",
        )
        parser.add_argument(
            "--scopes",
            nargs="+",
            metavar="SCOPE",
            help=f"Scopes of the key (default: all). One or more of: {', '.join(ALL_SCOPES)}.",
        )
        parser.add_argument(
            "--notify-url",
            default="",
            help="Default callback URL of the application (used only when creating it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        app_name: str = options["application"] or options["name"]
        try:
            # Checked before anything is written, so a typo leaves no application behind.
            scopes = scopes_validate(scopes=options["scopes"])
            with transaction.atomic():
                application = ClientApplication.objects.filter(name=app_name).first()
                created_app = application is None
                if application is None:
                    application = application_create(
                        name=app_name, default_notify_url=options["notify_url"]
                    )
                api_key, raw_key = api_key_create(
                    application=application, name=options["name"], scopes=scopes
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        out = self.stdout
        if created_app:
            out.write(f"Created client application {application.name!r}.")
            out.write(f"Notification signing secret: {application.notification_secret}")
        elif options["notify_url"] and options["notify_url"] != application.default_notify_url:
            self.stderr.write(
                f"Application {application.name!r} exists; its notify URL was left unchanged."
            )
        out.write(
            f"Created API key {api_key.name!r} for {application.name!r} "
            f"(prefix {api_key.prefix}, scopes: {', '.join(scopes)})."
        )
        out.write(f"API key: {raw_key}")
        out.write(
            self.style.WARNING(
                "Store the key (and any secret above) now: it cannot be shown again."
            )
        )
