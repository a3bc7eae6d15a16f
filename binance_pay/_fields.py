"""Typed, strict reading of fields from parsed Binance JSON objects.

``FieldReader`` wraps a mapping and an error factory, so the same coercion rules serve API
responses (errors become ``TransportError``: the response is malformed, outcome unknown) and
webhook data (errors become ``MalformedNotification``).

Coercion rules (docs/binance-pay.md#gotcha-amounts: amounts are strings in responses, JSON numbers
-- even ``1.0E-7`` -- in webhooks):

* decimal: ``Decimal`` (finite), ``int``, or a numeric string such as ``"25.17"``/``"1.0E-7"``;
  never ``float`` or ``bool``.
* int: ``int`` (not ``bool``) or a string of ASCII digits.
* id string: ``str``, or an ``int`` rendered exactly (ids such as ``refundId`` may be numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from binance_pay.errors import BinancePayError

__all__ = ["ErrorFactory", "FieldReader", "parse_decimal"]

# reason ("missing" | "invalid"), field name, detail -> exception to raise
ErrorFactory = Callable[[str, str, str], BinancePayError]

_DECIMAL_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INT_RE = re.compile(r"-?\d+")


def parse_decimal(value: Any) -> Decimal:
    """``value`` as a finite ``Decimal`` per the module rules; ``ValueError``/``TypeError``."""
    if isinstance(value, bool):
        raise TypeError("boolean is not a decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        if not _DECIMAL_RE.fullmatch(value):
            raise ValueError(f"not a decimal string: {value[:40]!r}")
        try:
            result = Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid forms
            raise ValueError(f"not a decimal string: {value[:40]!r}") from exc
    else:
        raise TypeError(f"expected a decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("non-finite decimal")
    return result


class FieldReader:
    """Read typed fields from ``data``; failures are raised through ``error``."""

    def __init__(self, data: Mapping[str, Any], error: ErrorFactory, prefix: str = "") -> None:
        self._data = data
        self._error = error
        self._prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def _present(self, key: str) -> Any:
        value = self._data.get(key)
        if value is None:
            raise self._error("missing", self._name(key), "")
        return value

    def _invalid(self, key: str, expected: str) -> BinancePayError:
        return self._error("invalid", self._name(key), f"expected {expected}")

    def sub(self, key: str) -> FieldReader:
        """Reader over the required nested object ``key``."""
        value = self._present(key)
        if not isinstance(value, Mapping):
            raise self._invalid(key, "object")
        return FieldReader(value, self._error, f"{self._name(key)}.")

    def string(self, key: str) -> str:
        value = self._present(key)
        if not isinstance(value, str):
            raise self._invalid(key, "string")
        return value

    def opt_string(self, key: str) -> str | None:
        return None if self._data.get(key) is None else self.string(key)

    def id_str(self, key: str) -> str:
        value = self._present(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # exact: JSON integers are parsed as int, never float
        if not isinstance(value, str):
            raise self._invalid(key, "string or integer id")
        return value

    def opt_id_str(self, key: str) -> str | None:
        return None if self._data.get(key) is None else self.id_str(key)

    def integer(self, key: str) -> int:
        value = self._present(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value):
            return int(value)
        raise self._invalid(key, "integer")

    def opt_integer(self, key: str) -> int | None:
        return None if self._data.get(key) is None else self.integer(key)

    def decimal(self, key: str) -> Decimal:
        value = self._present(key)
        try:
            return parse_decimal(value)
        except (TypeError, ValueError):
            raise self._invalid(key, "decimal") from None

    def opt_decimal(self, key: str) -> Decimal | None:
        """Like ``decimal``; absent, ``null`` and ``""`` (seen in doc samples) give ``None``."""
        value = self._data.get(key)
        return None if value is None or value == "" else self.decimal(key)

    def yes_no(self, key: str) -> bool:
        """``"Y"``/``"N"`` (``duplicateRequest`` of docs/binance-pay.md#refund-order), or a JSON
        boolean."""
        value = self._present(key)
        if isinstance(value, bool):
            return value
        if value in ("Y", "N"):
            return bool(value == "Y")
        raise self._invalid(key, '"Y" or "N"')

    def opt_yes_no(self, key: str) -> bool | None:
        return None if self._data.get(key) is None else self.yes_no(key)

    def boolean(self, key: str) -> bool:
        value = self._present(key)
        if not isinstance(value, bool):
            raise self._invalid(key, "boolean")
        return value

    def opt_dict(self, key: str) -> dict[str, Any] | None:
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self._invalid(key, "object")
        return dict(value)
