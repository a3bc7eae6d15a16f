"""Timelines for staff: everything that happened to one object, merged from several apps, by time.

A timeline is made of *sources*, registered per subject kind by the apps that know something
about such a subject (``register_timeline_source("order", source)``): the orders app contributes
an order's own history, the webhooks app the Binance notifications about it, the notifications
app the merchant callbacks. This module imports none of them: it only merges what each source
returns and adds the staff actions recorded in the admin log, for the subject and for every
related row a source names (a webhook event reprocessed, a callback redelivered).

A source is ``source(subject, site) -> Contribution``; it should cost a query or two whatever
the subject's history (no query per entry).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    title: str
    source: str = ""
    actor: str = ""
    status: str = ""
    link: str = ""
    # (label, text) blocks shown collapsed: request/answer bodies, payloads.
    blocks: tuple[tuple[str, str], ...] = field(default=())
    # Ties on `at` keep the order each source recorded: (source rank, row id).
    rank: tuple[int, int] = (0, 0)

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ")


@dataclass(frozen=True)
class Contribution:
    """What one source knows: its entries, and the rows whose staff actions belong here too."""

    entries: Sequence[TimelineEntry] = ()
    related: Sequence[tuple[type[Model], Sequence[int]]] = ()


Source = Callable[[Any, str], Contribution]
_sources: dict[str, list[Source]] = defaultdict(list)


def register_timeline_source(subject_kind: str, source: Source) -> Source:
    """Add `source` to the timelines of `subject_kind` subjects (idempotent); returns it."""
    if source not in _sources[subject_kind]:
        _sources[subject_kind].append(source)
    return source


def admin_url(name: str, pk: Any, site: str) -> str:
    """The admin URL `site:name` for `pk`, or "" when that admin is not installed."""
    try:
        return reverse(f"{site}:{name}", args=[pk])
    except NoReverseMatch:
        return ""


def timeline(*, subject_kind: str, subject: Model, site: str = "admin") -> list[TimelineEntry]:
    """Every entry about `subject`, oldest first."""
    entries: list[TimelineEntry] = []
    related: list[tuple[type[Model], Sequence[int]]] = [(type(subject), [subject.pk])]
    for source in _sources[subject_kind]:
        contribution = source(subject, site)
        entries.extend(contribution.entries)
        related.extend(contribution.related)
    entries.extend(_staff_actions(related))
    entries.sort(key=lambda entry: (entry.at, entry.rank))
    return entries


def _staff_actions(related: Sequence[tuple[type[Model], Sequence[int]]]) -> list[TimelineEntry]:
    """The admin log of every related row, in one query."""
    types = ContentType.objects.get_for_models(*{model for model, _ids in related})
    match = Q()
    for model, ids in related:
        if ids:
            match |= Q(content_type=types[model], object_id__in=[str(pk) for pk in ids])
    if not match:
        return []
    return [
        TimelineEntry(
            at=log.action_time,
            kind="staff",
            title=f"{log.get_change_message() or 'changed'} "
            f"({log.content_type.model} {log.object_repr})",
            source="staff",
            actor=f"staff:{log.user.get_username()}",
            rank=(9, log.pk),
        )
        for log in LogEntry.objects.filter(match).select_related("user", "content_type")
    ]
