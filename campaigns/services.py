"""Writes of campaigns: task definitions (staff, in the admin) and customer identifiers (merchants,
through the API). Every change to these rows goes through here."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from campaigns.models import CustomerIdentifier, Task, identifier_normalise
from campaigns.selectors import task_cache_clear

logger = logging.getLogger(__name__)


class IdentifierConflict(Exception):
    """The identifier is already registered, for another customer or with another chain."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def task_save(*, task: Task, actor: str = "") -> Task:
    """Validate (`Task.clean` and the field rules) and save a task definition.

    Raises ValidationError. Answers in this process reflect the change at once; in other
    processes within PAYSVC_WEB3_TASK_CACHE_SECONDS.
    """
    task.full_clean()
    task.save()
    # Now, and again once committed (a request in between may have re-read the old rows).
    task_cache_clear()
    transaction.on_commit(task_cache_clear)
    logger.info(
        "web3 task saved task_id=%s kind=%s active=%s by=%s",
        task.task_id,
        task.kind,
        task.is_active,
        actor,
    )
    return task


def identifier_register(
    *, application: Any, customer_ref: str, kind: str, value: str, chain: str = ""
) -> tuple[CustomerIdentifier, bool]:
    """Register `value` (normalised: EVM addresses in lower case) as an id of one customer.

    Idempotent on (application, kind, value): the same registration again returns the existing
    row and False. Raises IdentifierConflict when another customer of the application holds it,
    or it was registered with another chain. The unique constraint decides between concurrent
    requests.
    """
    value = identifier_normalise(value)
    try:
        with transaction.atomic():
            identifier = CustomerIdentifier.objects.create(
                application=application,
                customer_ref=customer_ref,
                kind=kind,
                value=value,
                chain=chain,
            )
    except IntegrityError:
        existing = CustomerIdentifier.objects.get(application=application, kind=kind, value=value)
        if existing.customer_ref != customer_ref:
            raise IdentifierConflict(
                f"This {kind} is already registered for another customer."
            ) from None
        if existing.chain != chain:
            raise IdentifierConflict(
                f"This {kind} is already registered for this customer with chain "
                f"{existing.chain!r}."
            ) from None
        return existing, False
    logger.info(
        "customer identifier registered application=%s customer_ref=%s kind=%s",
        application.pk,
        customer_ref,
        kind,
    )
    return identifier, True
