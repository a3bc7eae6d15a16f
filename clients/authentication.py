"""DRF authentication by API key: ``Authorization: Bearer psk_live_...``."""

import logging

from django.views.decorators.debug import sensitive_variables
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from clients.keys import display_prefix, is_well_formed
from clients.models import ApiKey
from clients.principal import ClientPrincipal
from clients.selectors import api_key_get_active_by_raw
from clients.services import api_key_touch

logger = logging.getLogger(__name__)

AUTH_SCHEME = "Bearer"
REALM = "paysvc"


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate a request by the API key in its Bearer Authorization header.

    - no Authorization header, or another scheme: returns None (not authenticated; a permission
      class then answers 401 ``not_authenticated``);
    - a Bearer header that is malformed, or names an unknown or revoked key or a key of an
      inactive application: raises AuthenticationFailed (401 ``authentication_failed``);
    - otherwise returns ``(ClientPrincipal, ApiKey)``: `request.user` is the principal,
      `request.auth` the key, whose ``last_used_at`` is refreshed (at most once a minute).

    Error messages never echo the key.
    """

    @sensitive_variables("header", "parts", "raw_key")
    def authenticate(self, request: Request) -> tuple[ClientPrincipal, ApiKey] | None:
        header = get_authorization_header(request)
        parts = header.split()
        if not parts or parts[0].lower() != AUTH_SCHEME.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <api key>'."
            )
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raw_key = ""
        if not is_well_formed(raw_key):
            raise exceptions.AuthenticationFailed("Invalid API key.")

        api_key = api_key_get_active_by_raw(raw_key=raw_key)
        if api_key is None:
            # The prefix is logged to tell operators which (e.g. revoked) key is still in use.
            logger.info("refused api key", extra={"prefix": display_prefix(raw_key)})
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")

        api_key_touch(api_key=api_key)
        return ClientPrincipal(api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 rather than 403 to unauthenticated calls.
        return f'{AUTH_SCHEME} realm="{REALM}"'
