"""drf-spectacular: document ApiKeyAuthentication as an HTTP bearer security scheme."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from clients.authentication import AUTH_SCHEME


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "clients.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=AUTH_SCHEME, bearer_format="psk_live_..."
        )
        scheme["description"] = (
            "An API key created in the admin or with `manage.py create_api_key`, sent as "
            "`Authorization: Bearer <api key>`."
        )
        return scheme
