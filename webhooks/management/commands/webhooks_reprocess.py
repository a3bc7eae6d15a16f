"""``manage.py webhooks_reprocess``: process stored webhook events again, now, in this process."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from paysvc.progress import progress
from webhooks.models import EventStatus
from webhooks.selectors import webhook_event_ids
from webhooks.services import webhook_event_reprocess

STATUSES = (EventStatus.FAILED, EventStatus.ORPHAN, EventStatus.RECEIVED)


def _since(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since: not an ISO 8601 date or datetime: {value!r}")
        parsed = dt.datetime.combine(day, dt.time())
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


class Command(BaseCommand):
    help = (
        "Process stored Binance webhook events again, synchronously (the same service the "
        "worker runs). Failed events are retried; processed, ignored and flagged ones are left "
        "as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=int, nargs="+", dest="ids", metavar="ID")
        parser.add_argument("--status", choices=[str(s) for s in STATUSES])
        parser.add_argument("--since", type=_since, help="only events received since (ISO 8601)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["ids"] and not options["status"]:
            raise CommandError("give --id or --status")
        ids = webhook_event_ids(
            ids=options["ids"], status=options["status"], since=options["since"]
        )
        outcomes: Counter[str] = Counter()
        for event_id in progress(ids, label="webhook events", stream=self.stderr):
            outcome = webhook_event_reprocess(event_id=event_id)
            outcomes[outcome or "already final"] += 1
        summary = ", ".join(f"{name}={count}" for name, count in sorted(outcomes.items()))
        self.stdout.write(f"{len(ids)} events: {summary or 'nothing to do'}")
