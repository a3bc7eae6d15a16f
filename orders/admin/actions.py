"""What staff can do to orders from the admin: sync with Binance, close, refund, export.

Every action is thin (docs/conventions.md#rule-11): it checks the permission (server-side, not only
by hiding the button), calls the same `orders.services` function as the merchant API with
``source=staff`` and ``actor="staff:<username>"`` (so the order timeline says who did it), writes
the admin log, and turns the service's errors into admin messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from backoffice.charts import amount_text
from backoffice.export import csv_response
from orders.admin.forms import RefundForm
from orders.errors import InvalidOrderState, OrderServiceError, RefundNotAllowed
from orders.models import (
    MAX_REFUNDS_PER_ORDER,
    EventSource,
    Order,
    RefundStatus,
)
from orders.selectors import refund_allowance
from orders.services import order_close, order_sync, refund_create

# Permissions (orders.Order Meta.permissions; created by backoffice's roles migration).
SYNC_PERMISSION = "orders.sync_order"
CLOSE_PERMISSION = "orders.close_order"
REFUND_PERMISSION = "orders.refund_order"
# A bulk action calls Binance once per order while the admin waits: keep it short.
MAX_BULK = 50
# Big JSON columns the changelist never shows.
LIST_DEFERRED = (
    "goods",
    "env",
    "shipping",
    "buyer",
    "extra",
    "request_payload",
    "payment_info",
)
EXPORT_COLUMNS = (
    ("merchantTradeNo", "merchant_trade_no"),
    ("prepayId", "prepay_id"),
    ("status", "status"),
    ("currency", "currency"),
    ("orderAmount", "order_amount"),
    ("totalFee", "total_fee"),
    ("fiatAmount", "fiat_amount"),
    ("fiatCurrency", "fiat_currency"),
    ("customerRef", "customer_ref"),
    ("application", "application__name"),
    ("terminalType", "terminal_type"),
    ("createdAt", "created_at"),
    ("paidAt", "paid_at"),
    ("transactionId", "transaction_id"),
    ("openUserId", "open_user_id"),
    ("flagged", "flagged"),
    ("flagReason", "flag_reason"),
)


def staff_actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


class OrderChangeList(ChangeList):
    """The orders changelist: big JSON columns (and the application's secret) never loaded.

    A filtered or searched list is counted and its date range (for the date hierarchy) read in
    one aggregate: filters such as "paid found by polling" cost a scan each time they are
    evaluated, so they are evaluated twice (this and the page), not three times.
    """

    date_bounds: tuple[Any, Any] | None = None

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .defer(*LIST_DEFERRED, "application__notification_secret")
        )

    def get_results(self, request: HttpRequest) -> None:
        if self.queryset.query.where and self.date_hierarchy:
            field = self.date_hierarchy
            found = self.queryset.order_by().aggregate(
                n=Count("*"), first=Min(field), last=Max(field)
            )
            self.date_bounds = (found["first"], found["last"])
            self.queryset.known_count = found["n"]  # read by EstimatedCountPaginator
        super().get_results(request)


class OrderExportChangeList(OrderChangeList):
    """The changelist's filters, search and ordering without its pagination queries."""

    def get_results(self, request: HttpRequest) -> None:
        self.result_count = self.full_result_count = 0
        self.result_list, self.can_show_all, self.multi_page = [], False, False


class OrderActionsMixin:
    """Mixed into orders.admin.orders.OrderAdmin."""

    # -- permissions ------------------------------------------------------------------------------
    def has_sync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SYNC_PERMISSION)

    def has_close_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(CLOSE_PERMISSION)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    def _require(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied

    # -- running a service ------------------------------------------------------------------------
    def _call(
        self,
        request: HttpRequest,
        order: Order,
        done: str,
        service: Callable[..., Any],
        **kwargs: Any,
    ) -> bool:
        try:
            service(order=order, source=EventSource.STAFF, actor=staff_actor(request), **kwargs)
        except OrderServiceError as exc:
            text = exc.message
            self.message_user(request, f"{order.merchant_trade_no}: {text}", messages.ERROR)
            self.log_change(request, order, f"{done} failed: {text}"[:200])
            return False
        self.log_change(request, order, done)
        return True

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet[Order], done: str, service: Any
    ) -> None:
        orders = list(queryset.defer(*LIST_DEFERRED)[: MAX_BULK + 1])
        if len(orders) > MAX_BULK:
            self.message_user(request, f"Select at most {MAX_BULK} orders.", messages.ERROR)
            return
        ok = sum(self._call(request, order, done, service) for order in orders)
        if ok:
            self.message_user(request, f"{done}: {ok} order(s).", messages.SUCCESS)

    # -- changelist actions -----------------------------------------------------------------------
    @admin.action(description="Sync with Binance (Query Order)", permissions=["sync"])
    def sync_with_binance(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._bulk(request, queryset, "Synced with Binance", order_sync)

    @admin.action(description="Close at Binance (unpaid orders)", permissions=["close"])
    def close_at_binance(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._bulk(request, queryset, "Closed at Binance", order_close)

    @admin.action(description="Refund… (one order, with confirmation)", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        pks = list(queryset.values_list("pk", flat=True)[:2])
        if len(pks) != 1:
            self.message_user(request, "Select exactly one order to refund.", messages.ERROR)
            return None
        return HttpResponseRedirect(self._url("refund", pks[0]))

    # -- object views -----------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("export-csv/", wrap(self.export_csv_view), name=f"{name}_export_csv"),
            path("<path:object_id>/sync/", wrap(self.sync_view), name=f"{name}_sync"),
            path("<path:object_id>/close/", wrap(self.close_view), name=f"{name}_close"),
            path("<path:object_id>/refund/", wrap(self.refund_view), name=f"{name}_refund"),
            *super().get_urls(),
        ]

    def _url(self, view: str, pk: Any) -> str:
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{view}", args=[pk]
        )

    def _order_or_404(self, request: HttpRequest, object_id: str) -> Order:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("no such order")
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        return order

    def _single(self, request: HttpRequest, object_id: str, allowed: bool, done: str, service: Any):
        self._require(allowed)
        order = self._order_or_404(request, object_id)
        if self._call(request, order, done, service):
            self.message_user(request, f"{order.merchant_trade_no}: {done}.", messages.SUCCESS)
        return HttpResponseRedirect(self._url("change", order.pk))

    def sync_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(
            lambda req: self._single(
                req, object_id, self.has_sync_permission(req), "Synced with Binance", order_sync
            )
        )(request)

    def close_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(
            lambda req: self._single(
                req, object_id, self.has_close_permission(req), "Closed at Binance", order_close
            )
        )(request)

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The refund confirmation page; POST requests the refund through `refund_create`."""
        self._require(self.has_refund_permission(request))
        order = self._order_or_404(request, object_id)
        allowance = refund_allowance(order)
        form = RefundForm(
            request.POST if request.method == "POST" else None,
            initial={
                "refund_request_id": uuid.uuid4().hex,
                # As Binance writes amounts (17.67, not 17.67000000), like the page around it.
                "refund_amount": amount_text(allowance.remaining)
                if allowance.last_attempt
                else None,
            },
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                refund = refund_create(
                    order=order,
                    refund_amount=data["refund_amount"],
                    refund_reason=data["refund_reason"],
                    refund_request_id=data["refund_request_id"],
                    source=EventSource.STAFF,
                    actor=staff_actor(request),
                )
            except RefundNotAllowed as exc:
                form.add_error(
                    "refund_amount" if exc.field == "refundAmount" else None, exc.message
                )
                self.message_user(request, exc.message, messages.ERROR)
            except InvalidOrderState as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(self._url("change", order.pk))
            except OrderServiceError as exc:
                # Binance refused it, or the outcome is unknown: the refund row says which.
                text = exc.message
                asked = amount_text(data["refund_amount"])
                self.log_change(request, order, f"Refund {asked} failed: {text}"[:200])
                self.message_user(request, text, messages.ERROR)
                return HttpResponseRedirect(self._url("change", order.pk))
            else:
                summary = (
                    f"Refund {refund.refund_request_id} of {amount_text(refund.refund_amount)} "
                    f"{order.currency} requested: {refund.status}"
                )
                self.log_change(request, order, summary)
                level = messages.ERROR if refund.status == RefundStatus.ERROR else messages.SUCCESS
                self.message_user(request, summary, level)
                return HttpResponseRedirect(self._url("change", order.pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": order,
            "title": f"Refund order {order.merchant_trade_no}",
            "form": form,
            "max_refunds": MAX_REFUNDS_PER_ORDER,
            "allowance": allowance,
        }
        return TemplateResponse(request, "orders/admin/refund_confirm.html", context)

    # -- export -----------------------------------------------------------------------------------
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OrderExportChangeList if getattr(request, "_bo_export", False) else OrderChangeList

    def export_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Every order the changelist shows with the same filters, search and ordering."""
        self._require(self.has_view_permission(request))
        request._bo_export = True  # type: ignore[attr-defined]
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            url = reverse(f"{self.admin_site.name}:orders_order_changelist")
            return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")
        rows = changelist.queryset.values_list(*(field for _h, field in EXPORT_COLUMNS))
        return csv_response(
            filename="orders.csv",
            header=[header for header, _f in EXPORT_COLUMNS],
            rows=rows.iterator(chunk_size=2000),
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        query = request.GET.copy()
        query.pop(PAGE_VAR, None)
        export = reverse(f"{self.admin_site.name}:orders_order_export_csv")
        extra_context = {
            **(extra_context or {}),
            "export_url": f"{export}?{query.urlencode()}" if query else export,
        }
        return super().changelist_view(request, extra_context)
