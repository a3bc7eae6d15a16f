"""URL fields: Binance's rules for returnUrl/cancelUrl plus paysvc's SSRF checks.

Private, loopback, link-local and internal-name targets are refused through
``paysvc.netsafety.check_url_target`` unless the Django setting ``PAYSVC_ALLOW_PRIVATE_URLS`` is
true (development and tests, where the sandbox and the merchant's test server are on loopback).
The setting is read at validation time, so tests can toggle it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rest_framework import serializers

from orders.validation.text import TextField
from paysvc.netsafety import UnsafeURLError, allow_private_urls, check_url_target


class HttpUrlField(TextField):
    """An absolute http(s) URL to a public host, at most ``max_length`` characters.

    ``max_query_params`` limits the query string (Binance: returnUrl and cancelUrl allow only
    one parameter). The URL is returned unchanged (trimmed).
    """

    def __init__(self, *, max_length: int, max_query_params: int | None = None, **kwargs: Any):
        self.max_query_params = max_query_params
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            check_url_target(value, allow_private=allow_private_urls())
        except UnsafeURLError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if self.max_query_params is not None:
            # Empty parts ("?a=1&") are no parameter: Binance (the sandbox) counts "a=1&" as one.
            params = [part for part in urlsplit(value).query.split("&") if part]
            if len(params) > self.max_query_params:
                # docs/binance-pay.md#create-order: "Only one parameter is allowed per URL"
                # (?q=apples&p=orange fails).
                raise serializers.ValidationError(
                    "must have at most one query parameter (Binance rule for returnUrl and "
                    "cancelUrl)"
                )
        return value


def redirect_url_field(**kwargs: Any) -> HttpUrlField:
    """returnUrl / cancelUrl: string(256], begins with http, at most one query parameter."""
    return HttpUrlField(max_length=256, max_query_params=1, required=False, **kwargs)


def notify_url_field(**kwargs: Any) -> HttpUrlField:
    """notifyUrl (paysvc's own): fetched server-side, so the SSRF checks matter most here."""
    return HttpUrlField(max_length=512, required=False, **kwargs)
