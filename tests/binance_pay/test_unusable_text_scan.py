"""binance_pay._json.may_hold_unusable_text: the cheap scan that lets notification parsing skip
walking the parsed JSON must never say "clean" for a text whose strings hold a NUL or a lone
surrogate."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from binance_pay._json import may_hold_unusable_text, strict_loads, text_problem

# Any code point, surrogates and NUL included, and the characters JSON escapes.
TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@given(VALUES, st.booleans())
def test_a_text_said_clean_parses_to_clean_strings(value, ensure_ascii):
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    if not may_hold_unusable_text(text):
        assert text_problem(strict_loads(text)) is None
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written raw: not UTF-8, refused before parsing
        return
    if not may_hold_unusable_text(raw):
        assert text_problem(strict_loads(raw)) is None


def test_escapes_and_raw_characters_are_caught():
    assert may_hold_unusable_text('{"a":"\\u0000"}')
    assert may_hold_unusable_text('{"a":"\\ud800"}')
    assert may_hold_unusable_text(b'{"a":"\\u0000"}')
    assert may_hold_unusable_text('{"a":"\x00"}')
    assert may_hold_unusable_text('{"a":"\ud800"}')
    assert not may_hold_unusable_text('{"bizType":"PAY","data":"{\\"a\\":1}"}')
    assert not may_hold_unusable_text('{"name":"caf\u00e9 \u2603"}'.encode())
