"""Text fields: Binance-style length limits and character hygiene.

Every string field refuses control characters (incl. NUL, DEL, C1, U+2028/2029), bidi override
and isolate characters (U+202A-U+202E, U+2066-U+2069: "Trojan Source" / RTL spoofing) and
unpaired surrogates (they cannot be encoded as UTF-8 later). ``goodsName`` adds Binance's rule
"Special character is prohibited Example: \\ \" or emoji" (docs/binance-pay.md#create-order);
``goodsDetail`` gets the emoji part only.

Lengths count UTF-16 code units, as Binance's Java backend counts ``String.length()``: one
character outside the BMP counts as two, so nothing we accept is too long for Binance.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from paysvc.serializers import COMMON_MESSAGES, json_type

TEXT_MESSAGES = {
    **COMMON_MESSAGES,
    "max_length": "must be at most {max_length} characters",
    "min_length": "must be at least {min_length} characters",
}

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZWJ = "\u200d"

# Emoji, defined by code point (no third-party list): the pictographic planes and blocks, the
# BMP characters that are emoji by default (Emoji_Presentation), and the emoji components
# (variation selector 16, keycap, tag characters for subdivision flags). Text-style symbols
# such as (c), (R), TM and plain arrows are allowed; followed by U+FE0F (emoji presentation)
# they become emoji and are refused. The whole Miscellaneous Technical (U+2300-23FF) and
# Miscellaneous Symbols and Arrows (U+2B00-2BFF) blocks are refused, emoji or not: Binance
# (the sandbox) refuses them in goodsName (tests/contract).
_EMOJI_RANGES = (
    (0x002300, 0x0023FF),  # Miscellaneous Technical (watch, hourglass, keyboard, ...)
    (0x0025FD, 0x0025FE),  # medium small squares
    (0x002600, 0x0027BF),  # Miscellaneous Symbols, Dingbats
    (0x002B00, 0x002BFF),  # Miscellaneous Symbols and Arrows (star, circle, large squares, ...)
    (0x003030, 0x003030),  # wavy dash
    (0x00303D, 0x00303D),  # part alternation mark
    (0x003297, 0x003297),  # circled ideograph congratulation
    (0x003299, 0x003299),  # circled ideograph secret
    (0x0020E3, 0x0020E3),  # combining enclosing keycap
    (0x00FE0F, 0x00FE0F),  # variation selector 16 (emoji presentation)
    (0x01F000, 0x01FAFF),  # Mahjong .. Symbols and Pictographs Extended-A (incl. flags, skin tones)
    (0x0E0020, 0x0E007F),  # tag characters (subdivision flags)
)


def is_emoji(char: str) -> bool:
    """True if the code point ``char`` is an emoji or an emoji component (see _EMOJI_RANGES)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


@dataclass(frozen=True)
class CharRule:
    """Extra characters a field refuses, with the message that names the rule."""

    forbidden: frozenset[str]
    emoji: bool
    message: str


GOODS_NAME_RULE = CharRule(
    # ZWJ too, even between letters: Binance (the sandbox) refuses every U+200D in goodsName.
    forbidden=frozenset('\\"' + _ZWJ),
    emoji=True,
    message='must not contain \\, " or emoji (Binance rule for goodsName)',
)
GOODS_DETAIL_RULE = CharRule(
    forbidden=frozenset(),
    emoji=True,
    message="must not contain emoji (Binance's goodsName rule, applied to goodsDetail)",
)


def utf16_length(text: str) -> int:
    """Length as Java's ``String.length()`` counts it."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def unsafe_text_message(text: str, rule: CharRule | None = None) -> str | None:
    """The message for the first character ``text`` may not contain, or None if it is clean."""
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cs":
            return f"must be valid Unicode text (found an unpaired surrogate U+{ord(char):04X})"
        if category in ("Cc", "Zl", "Zp"):
            return f"must not contain control characters (found U+{ord(char):04X})"
        if char in _BIDI_CONTROLS:
            return (
                "must not contain bidirectional override or isolate characters "
                f"(found U+{ord(char):04X})"
            )
        if rule is None:
            continue
        if char in rule.forbidden or (rule.emoji and is_emoji(char)):
            return rule.message
        if rule.emoji and char == _ZWJ and not _joins_letters(text, index):
            return rule.message  # a ZWJ outside a word is part of an emoji sequence
    return None


def _joins_letters(text: str, index: int) -> bool:
    # Indic and Arabic scripts use ZWJ between letters and marks; emoji sequences do not.
    if index == 0 or index == len(text) - 1:
        return False
    return all(unicodedata.category(text[i])[0] in "LM" for i in (index - 1, index + 1))


class TextField(serializers.CharField):
    """A JSON string, trimmed, with a length limit and character hygiene.

    Options beyond CharField's: ``rule`` (a CharRule), ``pattern`` + ``pattern_message`` (a
    full-match regex, checked last), ``printable`` (``str.isprintable``), and
    ``blank_means_absent`` (an empty optional value is dropped, like ``null``).
    """

    default_error_messages = TEXT_MESSAGES

    def __init__(
        self,
        *,
        max_length: int,
        rule: CharRule | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_message: str = "has an invalid format",
        printable: bool = False,
        blank_means_absent: bool = False,
        **kwargs: Any,
    ) -> None:
        self.rule = rule
        self.pattern = pattern
        self.pattern_message = pattern_message
        self.printable = printable
        self.blank_means_absent = blank_means_absent
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"must be a string, not {json_type(data)}")
        value = data.strip() if self.trim_whitespace else data
        if self.max_length is not None and utf16_length(value) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        if self.min_length is not None and len(value) < self.min_length:
            self.fail("min_length", min_length=self.min_length)
        message = unsafe_text_message(value, self.rule)
        if message:
            raise serializers.ValidationError(message)
        if self.printable and not value.isprintable():
            raise serializers.ValidationError("must contain only printable characters")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise serializers.ValidationError(self.pattern_message)
        return value
