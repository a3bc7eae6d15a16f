"""``manage.py admin_totp_add USERNAME``: give a staff user a confirmed TOTP device.

For operators (e.g. the first superuser when PAYSVC_ADMIN_REQUIRE_2FA is on and nobody can reach
the setup page yet). Prints the QR code in the terminal, or writes it as SVG with --svg. The QR
code holds the device's key: show it to its owner only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.services import totp_device_create_confirmed


class Command(BaseCommand):
    help = "Add a confirmed TOTP (authenticator app) device to a staff user and show its QR code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--svg", type=Path, help="write the QR code to this SVG file")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_staff:
            raise CommandError(f"no staff user {options['username']!r}")
        device = totp_device_create_confirmed(user=user)
        qr = segno.make(device.config_url, error="m")
        if options["svg"]:
            qr.save(str(options["svg"]), kind="svg", scale=4, border=2)
            options["svg"].chmod(0o600)
            self.stdout.write(f"QR code written to {options['svg']} (scan it, then delete it)")
        else:
            qr.terminal(out=self.stdout, compact=True)
        self.stdout.write(f"TOTP device {device.pk} added to {user.get_username()}")
