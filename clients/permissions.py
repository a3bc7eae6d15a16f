"""DRF permissions for API-key callers: "has a key", "the key has the scope this action needs"."""

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from clients.principal import ClientPrincipal


class MissingScope(PermissionDenied):
    """403 ``permission_denied`` naming the scope(s) the key lacks (body ``requiredScopes``)."""

    def __init__(self, detail: str | None = None, *, scopes: list[str]) -> None:
        if detail is None:
            quoted = ", ".join(f"'{scope}'" for scope in scopes)
            noun = "scope" if len(scopes) == 1 else "scopes"
            detail = f"This API key lacks the {noun} {quoted} needed for this operation."
        super().__init__(detail)
        self.error_extra = {"requiredScopes": list(scopes)}


def _principal(request: Request) -> ClientPrincipal | None:
    user = request.user
    return user if isinstance(user, ClientPrincipal) else None


class HasApiKey(BasePermission):
    """Allow requests authenticated with an API key (otherwise 401 ``not_authenticated``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _principal(request) is not None


class RequiredScopes(BasePermission):
    """Allow a request when its API key holds the scope(s) the view requires for it.

    The view declares ``required_scopes``: a mapping from a DRF action name (``"list"``,
    ``"create"``, a custom ``@action``) or an HTTP method (``"GET"``, ``"POST"``) to one scope or a
    list of scopes that are all required. The action name is looked up first; HEAD falls back to
    GET. An operation that the mapping does not mention is refused (fail closed), so that a new
    endpoint cannot be reachable by every key by oversight.

    Without an API key: 401 ``not_authenticated``. Missing scope: 403 ``permission_denied`` whose
    message and ``requiredScopes`` field name the missing scope(s).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = _principal(request)
        if principal is None:
            return False
        required = self.scopes_for(request, view)
        if required is None:
            raise MissingScope(
                "This operation is not open to API keys (no scope is declared for it).", scopes=[]
            )
        missing = [scope for scope in required if not principal.has_scope(scope)]
        if missing:
            raise MissingScope(scopes=missing)
        return True

    @staticmethod
    def scopes_for(request: Request, view: Any) -> list[str] | None:
        """The scopes `view` requires for this request, or None when it declares none."""
        mapping: Mapping[str, str | Iterable[str]] = getattr(view, "required_scopes", None) or {}
        method = (request.method or "").upper()
        candidates = [getattr(view, "action", None), method]
        if method == "HEAD":
            candidates.append("GET")
        for key in candidates:
            if key and key in mapping:
                value = mapping[key]
                return [value] if isinstance(value, str) else list(value)
        return None
