"""A strict JSON parser for the merchant API: Decimal numbers, bounded size, depth and keys."""

import json
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from paysvc.exceptions import PayloadTooLarge

MAX_DEPTH = 32
_MAX_KEY_IN_MESSAGE = 64


# Characters an object key may not contain: controls (PostgreSQL cannot store NUL in jsonb or
# text) and unpaired surrogates (not encodable as UTF-8, so an error body naming the key fails).
_UNSAFE_KEY_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class _UnsafeKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python's json keeps the last of duplicate keys while other parsers keep the first; refusing
    # them means every component that reads the body sees the same object.
    for key, _value in pairs:
        if _UNSAFE_KEY_CHARS.search(key):
            raise _UnsafeKeyError(key)
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _depth_exceeds(data: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class DecimalJSONParser(JSONParser):
    """Parse ``application/json`` bodies strictly.

    - numbers with a fraction or exponent become `Decimal` (``0.1`` stays exactly 0.1: amounts
      never pass through float); integers stay `int`;
    - the body is UTF-8 (RFC 8259 section 8.1) whatever charset the request declares;
    - more than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes: 413 ``payload_too_large``. DRF 3.18 hands
      JSON parsers ``request.body``, where Django enforces that setting already (the exception
      handler turns its RequestDataTooBig into the same 413); the parser checks again so that the
      cap holds whoever passes it a stream;
    - duplicate keys in an object, ``NaN``/``Infinity``, arrays/objects nested deeper than
      `MAX_DEPTH`, or invalid JSON: 400 ``parse_error``.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        raw = self._read_capped(stream, parser_context or {})
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("JSON parse error - the body is not valid UTF-8.") from exc
        try:
            data = json.loads(
                text,
                parse_float=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_object_without_duplicates,
            )
        except _UnsafeKeyError as exc:
            key = exc.key[:_MAX_KEY_IN_MESSAGE]  # repr escapes what is unsafe to echo
            raise ParseError(
                f"JSON parse error - object key {key!r} contains a control character or an "
                "unpaired surrogate."
            ) from exc
        except _DuplicateKeyError as exc:
            key = exc.key[:_MAX_KEY_IN_MESSAGE]
            raise ParseError(f"JSON parse error - duplicate key {key!r}.") from exc
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH}.") from exc
        except ValueError as exc:  # JSONDecodeError, NaN/Infinity, over-long integers
            raise ParseError(f"JSON parse error - {exc}.") from exc
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH}.")
        return data

    @staticmethod
    def _read_capped(stream: Any, parser_context: dict[str, Any]) -> bytes:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return stream.read()
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            too_long = declared is not None and int(declared) > limit
        except ValueError:
            too_long = False
        if too_long:  # refuse before reading anything
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        return raw
