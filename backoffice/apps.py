"""The back office: the admin site (dashboard, login hardening, 2FA) and staff roles.

Two app configs live here: `BackofficeConfig` (this app: templates, static files, the roles
migration) and `PaysvcAdminConfig`, which replaces `django.contrib.admin` in INSTALLED_APPS so
that `admin.site` (where every app registers its ModelAdmins) is our `PaysvcAdminSite`.
"""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackofficeConfig(AppConfig):
    default = True
    name = "backoffice"
    verbose_name = "Back office"
    default_auto_field = "django.db.models.BigAutoField"


class PaysvcAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with paysvc's site as the default `admin.site`."""

    default = False
    default_site = "backoffice.sites.PaysvcAdminSite"
