"""Admin for Web3 task definitions (staff define them) and registered customer identifiers
(read-only: merchants register them through the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from backoffice.ledger import ReadOnlyAdminMixin
from campaigns.models import CustomerIdentifier, Task
from campaigns.services import task_save


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = (
        "task_id",
        "application",
        "kind",
        "threshold",
        "currency",
        "starts_at",
        "ends_at",
        "is_active",
    )
    list_filter = ("is_active", "kind", "application")
    search_fields = ("task_id", "description")
    list_select_related = ("application",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("task_id", "application", "description", "is_active")}),
        (
            "What completes it",
            {
                "fields": ("kind", "threshold", "currency"),
                "description": "Numeric thresholds are met at 95% (Binance's rule): a 10 USDT "
                "task is complete at 9.5 USDT.",
            },
        ),
        ("Window (payments and shares inside it count)", {"fields": ("starts_at", "ends_at")}),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Binance calls the task by its id: renaming it would break a running campaign.
        if obj is not None:
            return (*self.readonly_fields, "task_id", "application")
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a campaign may still ask about it; deactivate it instead

    def save_model(self, request: HttpRequest, obj: Task, form: ModelForm, change: bool) -> None:
        task_save(task=obj, actor=request.user.get_username())


@admin.register(CustomerIdentifier)
class CustomerIdentifierAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("value", "kind", "chain", "customer_ref", "application", "created_at")
    list_filter = ("kind", "application")
    search_fields = ("=value", "=customer_ref")
    list_select_related = ("application",)
