"""Admin registrations of the back office itself: staff TOTP devices, shown without secrets.

django-otp's own TOTPDevice admin shows the device key and its QR code to anyone who may change
devices; ours lists devices and lets a superuser delete a lost one (the staff member then sets
up a new one at <admin>/otp/setup/). Keys are never displayed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp import admin as _otp_totp_admin  # noqa: F401 - registers first
from django_otp.plugins.otp_totp.models import TOTPDevice

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class StaffTotpDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username__exact",)
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # devices are set up by their owner (QR code shown to them only)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
