"""The back office: the admin site (dashboard, login hardening, 2FA) and staff roles.

Three app configs live here: `BackofficeConfig` (this app: templates, static files, the roles
migration), `PaysvcAdminConfig`, which replaces `django.contrib.admin` in INSTALLED_APPS so
that `admin.site` (where every app registers its ModelAdmins) is our `PaysvcAdminSite`, and
`TwoFactorDevicesConfig`, which installs django-otp's TOTP plugin under a readable name.
"""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps

# The module, not its class: a second default AppConfig class in this module would make Django
# refuse to choose this app's config.
from django_otp.plugins.otp_totp import apps as otp_totp_apps


class BackofficeConfig(AppConfig):
    default = True
    name = "backoffice"
    verbose_name = "Back office"
    default_auto_field = "django.db.models.BigAutoField"


class PaysvcAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with paysvc's site as the default `admin.site`."""

    default = False
    default_site = "backoffice.sites.PaysvcAdminSite"


class TwoFactorDevicesConfig(otp_totp_apps.DefaultConfig):
    """django-otp's TOTP plugin as the admin names it: "Two-factor devices", not its label
    (OTP_TOTP in the app list). Same name, label (otp_totp), models, migrations and URLs: only
    the name shown changes (INSTALLED_APPS lists this instead of "django_otp.plugins.otp_totp")."""

    default = False
    verbose_name = "Two-factor devices"
