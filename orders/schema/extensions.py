"""OpenAPI schema extensions for the orders validation serializers (drf-spectacular finds them when
this module is imported, which orders.schema does).

`TextFieldExtension` puts the ``pattern`` a `orders.validation.text.TextField` checks into the
request schema (and ``format: uri`` for URL fields), so that the request schemas say which
characters an id, a phone number or a currency list may contain.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)


class TextFieldExtension(OpenApiSerializerFieldExtension):
    """Documents a `TextField`'s ``pattern`` (a full match) and a URL field's ``format: uri``.

    Lengths come from the field's MaxLengthValidator as usual. Patterns are written so that
    JavaScript, JSON Schema and Python read them alike (ASCII classes only).
    """

    target_class = "orders.validation.text.TextField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        from orders.validation.urls import HttpUrlField

        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        pattern = getattr(self.target, "pattern", None)
        if pattern is not None:
            schema["pattern"] = f"^(?:{pattern.pattern})$"
        if isinstance(self.target, HttpUrlField):
            schema["format"] = "uri"
        return schema


class _RenamedRequestSerializer(OpenApiSerializerExtension):
    """Names a request serializer's component (``RefundRequest`` + the split suffix would read
    ``RefundRequestRequest``)."""

    component_name = ""

    def get_name(self, auto_schema: Any = None, direction: Any = None) -> str:
        return self.component_name

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        return auto_schema._map_serializer(self.target, direction, bypass_extensions=True)


class RefundRequestSchema(_RenamedRequestSerializer):
    target_class = "orders.validation.serializers.RefundRequestSerializer"
    component_name = "CreateRefund"


class AccountShareRequestSchema(_RenamedRequestSerializer):
    target_class = "orders.validation.serializers.AccountShareRequestSerializer"
    component_name = "CreateAccountShare"
