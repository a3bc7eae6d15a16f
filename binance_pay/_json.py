"""Strict JSON helpers shared by the client and the webhook parser.

* Numbers never become ``float``: fractions parse to ``Decimal``, integers to exact ``int``
  (REFERENCE 4.2: ``bizId`` exceeds 2^53; 4.9: amounts must be Decimal).
* ``NaN``/``Infinity`` literals (which Python's ``json`` accepts by default) are rejected.
* Duplicate keys in any object are rejected: which value "wins" would be ambiguous.
* Nesting deeper than a limit is rejected by a cheap scan *before* ``json.loads``, so hostile
  input cannot reach the parser's recursion limit (RELIABILITY c.1: 10,000-level nesting).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "DuplicateKeyError",
    "JsonDepthError",
    "exceeds_depth",
    "plain_decimal",
    "strict_loads",
]

MAX_DEPTH = 32
# plain_decimal refuses exponents beyond this: "1E+999999999" would expand to a gigabyte string.
MAX_PLAIN_EXPONENT = 100

# A JSON string literal (unrolled-loop form: linear time, no catastrophic backtracking).
_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET_RE = re.compile(r"[\[\]{}]")


class DuplicateKeyError(ValueError):
    """An object has the same key twice; ``key`` is that key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


class JsonDepthError(ValueError):
    """Nesting deeper than allowed."""


def exceeds_depth(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when ``[``/``{`` nesting outside string literals goes deeper than ``limit``.

    A conservative pre-check: malformed input may be over-counted, which only means it is
    rejected as too deep instead of as invalid JSON.
    """
    depth = 0
    for match in _BRACKET_RE.finditer(_STRING_RE.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")


def _unique_object(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKeyError(key)
        obj[key] = value
    return obj


def strict_loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON strictly (see module docstring).

    ``bytes`` must be UTF-8 (no BOM). Raises ``UnicodeDecodeError``, ``JsonDepthError``,
    ``DuplicateKeyError`` or ``json.JSONDecodeError`` -- all ``ValueError`` subclasses.
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8")
    if exceeds_depth(text, max_depth):
        raise JsonDepthError(f"nesting deeper than {max_depth}")
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=int,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except RecursionError as exc:  # belt and braces; the depth scan should prevent this
        raise JsonDepthError("nesting too deep") from exc


def plain_decimal(value: Decimal) -> str:
    """``value`` in plain notation, never scientific: ``Decimal("1E-8")`` -> ``"0.00000001"``.

    Raises ``ValueError`` for NaN, infinities and absurd exponents (beyond +-100).
    """
    if not value.is_finite():
        raise ValueError(f"non-finite decimal {value!r}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and abs(exponent) > MAX_PLAIN_EXPONENT:
        raise ValueError("decimal exponent out of range")
    return format(value, "f")
