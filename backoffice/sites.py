"""paysvc's admin site: the dashboard on the index, the hardened login and two-factor setup.

It is `admin.site` (backoffice.apps.PaysvcAdminConfig), so every app's `@admin.register` lands
here. When PAYSVC_ADMIN_REQUIRE_2FA is on, an authenticated staff member whose session has not
passed a second factor reaches no admin page: without a confirmed device they are sent to set
one up, with one they are sent to the login page to enter its code.
"""

from __future__ import annotations

from base64 import b32encode
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login

from backoffice.dashboard import DASHBOARD_CACHE_SECONDS, dashboard_for
from backoffice.forms import TotpConfirmForm
from backoffice.login import AdminLoginForm
from backoffice.security import is_verified, two_factor_required
from backoffice.services import totp_device_confirm, totp_device_pending, totp_devices_confirmed


def method_never_cache_csrf(func: Any) -> Any:
    """never_cache + csrf_protect for a site method (the site's own views are not admin_view)."""

    @wraps(func)
    def wrapper(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        view = never_cache(csrf_protect(lambda req: func(self, req, *args, **kwargs)))
        return view(request)

    return wrapper


class PaysvcAdminSite(admin.AdminSite):
    site_header = "paysvc back office"
    site_title = "paysvc"
    index_title = "Dashboard"
    index_template = "backoffice/dashboard.html"
    login_template = "backoffice/login.html"
    login_form = AdminLoginForm
    # Off: at 1280 px Django's navigation sidebar takes 300 px from every page, and the ledger
    # lists (orders, refunds, shares, deliveries) no longer fit beside their filters. The
    # dashboard lists every model and every page's breadcrumbs lead back to it.
    enable_nav_sidebar = False
    # Django's "View site" leads to "/", which paysvc does not serve (a 404): the header links
    # to the API documentation instead (templates/admin/base_site.html).
    site_url = None

    # -- second factor ----------------------------------------------------------------------------
    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not two_factor_required() or is_verified(request.user)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.path == reverse(f"{self.name}:logout"):
                return self.logout(request)  # an unverified session may always log out
            if self._needs_device_setup(request):
                setup = reverse(f"{self.name}:otp_setup")
                return HttpResponseRedirect(
                    f"{setup}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
                )
            return inner(request, *args, **kwargs)

        return guarded

    def _needs_device_setup(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            two_factor_required()
            and user.is_active
            and user.is_staff
            and not is_verified(user)
            and not totp_devices_confirmed(user=user)
        )

    def get_urls(self) -> list[Any]:
        return [
            path("otp/setup/", self.otp_setup_view, name="otp_setup"),
            *super().get_urls(),
        ]

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["two_factor_required"] = two_factor_required()
        return context

    @method_never_cache_csrf
    def otp_setup_view(self, request: HttpRequest) -> HttpResponse:
        """Set up a TOTP authenticator: scan the QR code, confirm with one code.

        Open to any active staff session. A user who already has a confirmed device must have
        used it in this session to add another: a password alone never enrols a device then.
        """
        user = request.user
        if not (user.is_active and user.is_staff):
            login = reverse(f"{self.name}:login")
            return HttpResponseRedirect(
                f"{login}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
            )
        if totp_devices_confirmed(user=user) and not is_verified(user):
            messages.error(request, "Log in with your authenticator code to add another device.")
            return HttpResponseRedirect(reverse(f"{self.name}:login"))
        next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
        if not next_url or not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse(f"{self.name}:index")
        device = totp_device_pending(user=user)
        form = TotpConfirmForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            if totp_device_confirm(device=device, token=form.cleaned_data["token"]):
                device.refresh_from_db()
                otp_login(request, device)
                messages.success(request, "Two-factor authentication is set up.")
                return HttpResponseRedirect(next_url)
            form.add_error("token", "That code is not valid. Check the time on your phone.")
        qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)
        context = {
            **self.each_context(request),
            "title": "Set up two-factor authentication",
            "form": form,
            "qr_svg": mark_safe(qr_svg),  # noqa: S308 - generated by segno from our own URL  # nosec B308 B703
            # For typing into an app instead of scanning: the user's own enrolment key.
            "manual_key": b32encode(device.bin_key).decode("ascii"),
            "next": next_url,
            "has_permission": False,  # no sidebar: the session may not reach the admin yet
        }
        response = TemplateResponse(request, "backoffice/otp_setup.html", context)
        response["Cache-Control"] = "no-store"
        return response

    # -- dashboard --------------------------------------------------------------------------------
    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra_context = dict(extra_context or {})
        sections = dashboard_for(request.user)
        if sections:
            extra_context["dashboard"] = sections
            extra_context["dashboard_as_of"] = min(shown.generated_at for shown in sections)
            extra_context["dashboard_refresh_seconds"] = DASHBOARD_CACHE_SECONDS
        return super().index(request, extra_context)
