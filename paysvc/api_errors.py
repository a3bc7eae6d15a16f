"""Django's error views (handler400/403/404/500): the API's JSON error body under API paths.

DRF views answer their own errors through `paysvc.exceptions.api_exception_handler`. What never
reaches a DRF view (an unknown URL, an exception DRF does not handle, a request Django itself
refuses) is answered here: in the one error shape for paths under
``settings.PAYSVC_JSON_ERROR_PATH_PREFIXES`` (default ``["/api/"]``), with Django's own pages
elsewhere (admin, sandbox pages). Django calls these only with DEBUG off; the 500 body never
contains exception details (Django has logged them already).
"""

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from paysvc.exceptions import error_body

DEFAULT_JSON_ERROR_PATH_PREFIXES: Sequence[str] = ("/api/",)


def wants_json(request: HttpRequest) -> bool:
    """Whether errors for this request are answered in the API's JSON shape."""
    prefixes = getattr(
        settings, "PAYSVC_JSON_ERROR_PATH_PREFIXES", DEFAULT_JSON_ERROR_PATH_PREFIXES
    )
    return request.path.startswith(tuple(prefixes))


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (also what Django answers for SuspiciousOperation, e.g. an oversized body)."""
    if not wants_json(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _json_error(413, "payload_too_large", "The request body is too large.")
    return _json_error(400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403."""
    if not wants_json(request):
        return defaults.permission_denied(request, exception)
    return _json_error(403, "permission_denied", "You do not have permission to do this.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404. The message is fixed: it never echoes the path or names a model."""
    if not wants_json(request):
        return defaults.page_not_found(request, exception)
    return _json_error(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a generic body, never the exception (it is in the logs)."""
    if not wants_json(request):
        return defaults.server_error(request)
    return _json_error(
        500, "server_error", "The server failed to process the request. Try again later."
    )
