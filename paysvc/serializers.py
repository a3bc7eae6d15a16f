"""The strict serializer base of every request body the merchant API takes.

``StrictSerializer`` rejects unknown keys at every level ("unknown field": our mass-assignment
defence), reports a non-object where an object belongs at the field's own path, treats ``null``
on an optional field as absent, and returns plain dicts. ``COMMON_MESSAGES`` gives every field
the same wording for the generic errors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Generic, TypeVar

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

# One wording for the generic cases, so every field reads the same.
COMMON_MESSAGES = {
    "required": "is required",
    "null": "must not be null",
    "blank": "must not be blank",
    "invalid": "is invalid",
}

UNKNOWN_FIELD = "unknown field"

S = TypeVar("S", bound=serializers.BaseSerializer)


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for type-error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float | Decimal):
        return "a decimal number"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class StrictSerializer(serializers.Serializer):
    """A Serializer for JSON objects that accepts exactly its declared fields.

    - unknown keys fail with "unknown field" at their own path;
    - a non-object value fails with "must be a JSON object, not an array" at the field's path
      (DRF would put it under a nested ``non_field_errors``);
    - ``null`` on an optional field means "absent"; so does ``""`` on a field marked
      ``blank_means_absent``; absent optional fields are omitted from ``validated_data``;
    - ``presence_errors(data)`` lets a subclass add rules that only depend on which keys are
      present, reported together with the field errors;
    - ``validated_data`` (and every nested object in it) is a plain ``dict``.
    """

    default_error_messages = COMMON_MESSAGES
    # Fields merchants sometimes send that a serializer deliberately does not take, with why.
    unknown_field_hints: dict[str, str] = {}

    def run_validation(self, data: Any = empty) -> Any:
        if data is not empty and data is not None and not isinstance(data, Mapping):
            message = f"must be a JSON object, not {json_type(data)}"
            if self.parent is None:
                raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
            raise serializers.ValidationError([message])
        if data is None and self.parent is None:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["must be a JSON object, not null"]}
            )
        return super().run_validation(data)

    def to_internal_value(self, data: Mapping[str, Any]) -> dict[str, Any]:
        data = {key: value for key, value in data.items() if not self._means_absent(key, value)}
        errors: dict[str, Any] = {
            key: [self._unknown_field_message(key)] for key in data if key not in self.fields
        }
        _merge(errors, self.presence_errors(data))
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            _merge(errors, exc.detail)
            raise serializers.ValidationError(errors) from None
        if errors:
            raise serializers.ValidationError(errors)
        return dict(value)

    def presence_errors(self, data: Mapping[str, Any]) -> dict[str, list[str]]:
        """Errors for rules about which keys are present (override; default none)."""
        return {}

    def _unknown_field_message(self, key: str) -> str:
        hint = self.unknown_field_hints.get(key)
        return f"{UNKNOWN_FIELD} ({hint})" if hint else UNKNOWN_FIELD

    def _means_absent(self, key: str, value: Any) -> bool:
        field = self.fields.get(key)
        if field is None or field.required:
            return False
        if value is None:
            return True
        return (
            getattr(field, "blank_means_absent", False)
            and isinstance(value, str)
            and not value.strip()
        )


def _merge(errors: dict[str, Any], more: Any) -> None:
    for key, value in more.items():
        if key in errors and isinstance(errors[key], list) and isinstance(value, list):
            errors[key] = errors[key] + value
        elif key not in errors:
            errors[key] = value


class Reused(Generic[S]):
    """Serializer instances of one class kept for reuse, so that their field tree is built once.

    DRF builds a serializer's fields on every instance: a deep copy of every declared field (and
    of every nested serializer's), and for a ModelSerializer a walk over the model's fields.
    For the order endpoints that was the largest share of paysvc's own CPU per request
    (bench/README.md). A built tree holds no per-request state when used through
    `run_validation` / `to_representation` (DRF keeps ``initial_data``, ``_validated_data``,
    ``_errors`` and ``_data`` on the root instance only, and those are not used here), so one
    tree can serve request after request.

    Instances are never shared between threads: each thread takes one from its own free list
    (building one when the list is empty, e.g. on re-entry) and gives it back when done. The
    context is set for the one use and cleared after it (nothing of a request is kept).

    `validated(data, context)` is ``S(data=data, context=context)`` +
    ``is_valid(raise_exception=True)`` + ``validated_data``, with the same ValidationError;
    `represent(obj)` is ``S(obj).data`` (as a plain dict).
    """

    def __init__(self, serializer_class: type[S]) -> None:
        self.serializer_class = serializer_class
        self._local = threading.local()

    @contextmanager
    def _instance(self, context: Mapping[str, Any] | None) -> Iterator[S]:
        free: list[S] | None = getattr(self._local, "free", None)
        if free is None:
            free = self._local.free = []
        serializer = free.pop() if free else self._build()
        serializer._context = dict(context or {})
        try:
            yield serializer
        finally:
            serializer._context = {}
            free.append(serializer)

    def _build(self) -> S:
        serializer = self.serializer_class()
        serializer.fields  # noqa: B018 - build (and bind) the tree now, once
        return serializer

    def validated(self, data: Any, *, context: Mapping[str, Any] | None = None) -> Any:
        """The validated data of ``data``; raises ValidationError as ``is_valid`` would."""
        with self._instance(context) as serializer:
            try:
                return serializer.run_validation(data)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError(exc.detail) from None

    def represent(self, instance: Any, *, context: Mapping[str, Any] | None = None) -> Any:
        """``serializer_class(instance).data``."""
        with self._instance(context) as serializer:
            return serializer.to_representation(instance)
