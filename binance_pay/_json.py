"""Strict JSON helpers shared by the client and the webhook parser.

* Numbers never become ``float``: fractions parse to ``Decimal``, integers to exact ``int``
  (docs/binance-pay.md#gotcha-big-bizid: ``bizId`` exceeds 2^53;
  docs/binance-pay.md#gotcha-amounts: amounts must be Decimal).
* ``NaN``/``Infinity`` literals (which Python's ``json`` accepts by default) are rejected.
* Duplicate keys in any object are rejected: which value "wins" would be ambiguous.
* Nesting deeper than a limit is rejected by a cheap scan *before* ``json.loads``, so hostile
  input cannot reach the parser's recursion limit (docs/reliability.md#c1-webhook-bad-inputs:
  10,000-level nesting).

``text_problem`` finds text that JSON can spell but that is not usable text: a lone surrogate
(``"\\ud800"``: not a Unicode character, RFC 8259 section 8.2 calls its handling unpredictable,
and it cannot be encoded as UTF-8) or a NUL (``"\\u0000"``: PostgreSQL stores no NUL in text or
jsonb). The webhook parser refuses both (docs/binance-pay.md#webhook-envelope).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from itertools import accumulate
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "DuplicateKeyError",
    "JsonDepthError",
    "exceeds_depth",
    "may_hold_unusable_text",
    "plain_decimal",
    "strict_loads",
    "text_problem",
]

MAX_DEPTH = 32
# plain_decimal refuses exponents beyond this: "1E+999999999" would expand to a gigabyte string.
MAX_PLAIN_EXPONENT = 100

# A complete JSON string literal (unrolled loop), or -- when a quote never closes -- that quote and
# everything after it, which a JSON parser would also read as one (unterminated) string. Taking
# the rest in one match keeps the substitution linear: otherwise every escaped quote after an
# unterminated one would start a new failing attempt (quadratic time on '"\\"\\"\\"...').
_STRINGS_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"[\s\S]*')
_NOT_BRACKETS_RE = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
# A path longer than this is cut in messages (keys are attacker-chosen).
_MAX_PATH_CHARS = 120


class DuplicateKeyError(ValueError):
    """An object has the same key twice; ``key`` is that key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


class JsonDepthError(ValueError):
    """Nesting deeper than allowed."""


def exceeds_depth(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when ``[``/``{`` nesting outside string literals goes deeper than ``limit``.

    Linear time, done in C by ``re`` and ``itertools`` (no Python loop per character). A
    conservative pre-check: malformed input may be mis-counted, which only changes the reason
    it is rejected.
    """
    brackets = _NOT_BRACKETS_RE.sub("", _STRINGS_RE.sub("", text))
    if not brackets:
        return False
    return max(accumulate(map(_DELTA.__getitem__, brackets))) > limit


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


def text_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """``(path, problem)`` for the first string of parsed JSON holding a NUL or a lone surrogate.

    Object keys count as much as values. ``path`` is dotted (``data.paymentInfo.0.currency``;
    the object's own path when a key is at fault), ``problem`` a phrase such as ``"a lone
    surrogate \\ud800"``. None when every string is clean. Recursion is bounded by the depth
    check ``strict_loads`` makes before parsing.
    """
    if isinstance(value, str):
        problem = _string_problem(value)
        return (path[:_MAX_PATH_CHARS], problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _string_problem(key)
            if problem:
                return path[:_MAX_PATH_CHARS], f"an object key holding {problem}"
            found = text_problem(item, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = text_problem(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def may_hold_unusable_text(text: str | bytes) -> bool:
    """False when no string parsed from the JSON ``text`` can hold a NUL or a lone surrogate, so
    that `text_problem` need not walk the parsed value (a scan in C; the walk is Python).

    A parsed string holds only characters of ``text`` and what its escapes spell; only a
    ``\\u`` escape spells a NUL or a surrogate. So: no ``\\u`` in ``text``, and no NUL or
    surrogate in ``text`` itself (UTF-8 bytes, which `strict_loads` decodes strictly, cannot
    hold a surrogate). Conservative: an escaped backslash before a ``u`` also answers True.
    """
    if isinstance(text, bytes | bytearray):
        return b"\\u" in text or b"\x00" in text
    return "\\u" in text or _string_problem(text) is not None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character \\u0000"
    if text.isascii():  # the common case, checked in C
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # only surrogates fail: every other code point encodes
        return f"a lone surrogate \\u{ord(text[exc.start]):04x}"
    return None
