"""Admin for Web3 task definitions (staff define them) and registered customer identifiers
(read-only: merchants register them through the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.safestring import SafeString

from backoffice.charts import amount_text
from backoffice.display import field_shown, id_shown, moment_shown, money
from backoffice.ledger import ReadOnlyAdminMixin
from campaigns.models import CustomerIdentifier, Task, TaskKind
from campaigns.services import task_save


class TaskAdminForm(ModelForm):
    """The task form, its threshold written as Binance writes amounts (10, not 10.00000000)."""

    class Meta:
        model = Task
        fields = (
            "task_id", "application", "description", "is_active", "kind", "threshold",
            "currency", "starts_at", "ends_at",
        )  # fmt: skip
        labels = {"task_id": "Task ID"}  # Django would write "Task id" (backoffice.display)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.threshold is not None:
            self.initial["threshold"] = amount_text(self.instance.threshold)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    form = TaskAdminForm
    list_display = (
        "task_id_shown",
        "application",
        "kind",
        "threshold_shown",
        "currency",
        "starts_at_moment",
        "ends_at_moment",
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

    task_id_shown = field_shown("task_id", "Task ID")
    starts_at_moment = moment_shown("starts_at", "Starts at")
    ends_at_moment = moment_shown("ends_at", "Ends at")

    @admin.display(description="Threshold", ordering="threshold")
    def threshold_shown(self, obj: Task) -> SafeString | str:
        currency = obj.currency if obj.kind == TaskKind.PAID_AMOUNT_TOTAL else ""
        return money(obj.threshold, currency)

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
    list_display = (
        "value_shown", "kind", "chain", "customer_ref", "application", "created_at_moment",
    )  # fmt: skip
    list_filter = ("kind", "application")
    search_fields = ("=value", "=customer_ref")
    list_select_related = ("application",)

    value_shown = id_shown("value", "Value")
    created_at_moment = moment_shown("created_at", "Created at")
