"""The admin's read-only ledgers: what Binance and the services recorded is shown, never edited.

Mixed into every admin of a ledger table (orders, refunds, shares, webhook events, callbacks,
customer identifiers): no add, change or delete through the admin, for superusers too. Staff act
on these rows through actions that call the services, never by editing fields.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """A ledger: viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
