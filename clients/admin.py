"""Admin for client applications and API keys: read-mostly; secrets are shown once, never stored
in a displayable form.

Adding an API key (and adding an application, or rotating its notification secret) answers with
a page that shows the new secret once, with no-store caching headers. Keys cannot be edited or
deleted, only revoked.
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_variables

from backoffice.display import moment_shown
from clients.forms import ApiKeyCreateForm
from clients.models import ApiKey, ClientApplication
from clients.services import (
    api_key_create,
    api_key_revoke,
    application_create,
    application_notification_secret_rotate,
    application_update,
)

SHOW_ONCE_TEMPLATE = "admin/clients/show_secret_once.html"


def _show_secret_once(
    model_admin: admin.ModelAdmin, request: HttpRequest, *, title: str, secret: str, **context: Any
) -> HttpResponse:
    """A page showing `secret` once; browsers and proxies are told not to keep it."""
    opts = model_admin.model._meta
    response = TemplateResponse(
        request,
        SHOW_ONCE_TEMPLATE,
        {
            **model_admin.admin_site.each_context(request),
            "opts": opts,
            "title": title,
            "secret": secret,
            "back_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            **context,
        },
    )
    add_never_cache_headers(response)
    return response


@admin.register(ClientApplication)
class ClientApplicationAdmin(admin.ModelAdmin):
    list_display = (
        "name", "is_active", "order_api_version", "default_notify_url", "active_keys",
        "created_at_moment",
    )  # fmt: skip
    list_filter = ("is_active", "order_api_version")
    search_fields = ("name",)
    fields = ("name", "default_notify_url", "is_active", "order_api_version", "created_at")
    readonly_fields = ("created_at",)
    actions = ["rotate_notification_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Labels: backoffice.display's convention (Django would write "Default notify url").
    labels = {"default_notify_url": "Default notify URL"}

    created_at_moment = moment_shown("created_at", "Created at")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        return super().get_form(request, obj, change, labels=self.labels, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClientApplication]:
        return (
            super()
            .get_queryset(request)
            .annotate(_active_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True)))
        )

    @admin.display(description="active keys", ordering="_active_keys")
    def active_keys(self, obj: ClientApplication) -> int:
        return int(obj._active_keys)  # annotated by get_queryset

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its keys (and later its orders) keep it; deactivate it instead

    def save_model(
        self, request: HttpRequest, obj: ClientApplication, form: ModelForm, change: bool
    ) -> None:
        if change:
            current = ClientApplication.objects.get(pk=obj.pk)
            application_update(
                application=current, **{f: form.cleaned_data[f] for f in form.changed_data}
            )
            return
        created = application_create(
            name=obj.name,
            default_notify_url=obj.default_notify_url,
            is_active=obj.is_active,
            order_api_version=obj.order_api_version,
        )
        # The admin goes on to log and answer about `obj`: make it the row the service created.
        obj.pk, obj.created_at = created.pk, created.created_at
        obj.notification_secret = created.notification_secret
        obj._state.adding, obj._state.db = False, created._state.db

    def response_add(
        self, request: HttpRequest, obj: ClientApplication, post_url_continue: Any = None
    ) -> HttpResponse:
        return _show_secret_once(
            self,
            request,
            title=f"Application {obj.name} created",
            secret=obj.notification_secret,
            label="Notification signing secret",
            explanation="Callbacks to this application are signed with this secret "
            "(Paysvc-Signature, HMAC-SHA256). Give it to the application's owner.",
        )

    @admin.action(
        description="Rotate notification secret (shows the new one once)", permissions=["change"]
    )
    def rotate_notification_secret(
        self, request: HttpRequest, queryset: QuerySet[ClientApplication]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one application.", messages.ERROR)
            return None
        application = queryset.get()
        secret = application_notification_secret_rotate(application=application)
        self.log_change(request, application, "Rotated the notification secret.")
        return _show_secret_once(
            self,
            request,
            title=f"New notification secret of {application.name}",
            secret=secret,
            label="Notification signing secret",
            explanation="The previous secret no longer verifies callbacks.",
        )


class RevokedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    # key_hash is deliberately absent everywhere: a hash of a high-entropy key is not a secret in
    # itself, but nothing needs it on screen.
    list_display = (
        "prefix",
        "name",
        "application",
        "scope_list",
        "created_at_moment",
        "last_used_at_moment",
        "revoked_at_moment",
    )
    list_filter = (RevokedFilter, "application")
    list_select_related = ("application",)
    search_fields = ("prefix", "name", "application__name")
    fields = (
        "prefix",
        "name",
        "application",
        "scope_list",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = fields
    actions = ["revoke"]

    created_at_moment = moment_shown("created_at", "Created at")
    last_used_at_moment = moment_shown("last_used_at", "Last used at")
    revoked_at_moment = moment_shown("revoked_at", "Revoked at")

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are immutable; the change page is a read-only view

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the row stays as a record of the key

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key, by=request.user)
            self.log_change(request, api_key, "Revoked.")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)

    @sensitive_variables("raw_key")
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Create a key through the service and show it once (the standard add form is unused)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                api_key, raw_key = api_key_create(
                    application=form.cleaned_data["application"],
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.log_addition(request, api_key, "Created.")
                return _show_secret_once(
                    self,
                    request,
                    title=f"API key {api_key.prefix}… created",
                    secret=raw_key,
                    label="API key",
                    explanation=f"Application {api_key.application.name}, scopes: "
                    f"{', '.join(api_key.scopes)}. Send it as 'Authorization: Bearer <key>'.",
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Add API key",
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/clients/apikey/add_key.html", context)
