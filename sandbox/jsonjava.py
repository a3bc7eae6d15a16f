"""JSON the way Binance's Java services print it (docs/binance-pay.md#webhook-envelope).

* ``java_decimal(d)`` renders a Decimal exactly like ``java.math.BigDecimal.toString()``
  renders a BigDecimal with the same unscaled value and scale: plain notation when
  ``scale >= 0`` and the adjusted exponent is ``>= -6``, scientific (``1.0E-7``, ``1E+3``)
  otherwise.
  So ``Decimal("3.58000000") -> "3.58000000"``, ``Decimal("0.00000010") -> "1.0E-7"``,
  ``Decimal(0) -> "0"``.
* ``amount8(d)`` gives the scale-8 BigDecimal Binance uses for amounts inside webhook ``data``.
* ``dumps_java(obj)`` writes compact JSON (no spaces), keeping dict insertion order, with
  Decimals as bare Java-style numbers and non-ASCII text as raw UTF-8 (as Jackson does).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_SCALE8 = Decimal("1E-8")


def java_decimal(value: Decimal) -> str:
    """``BigDecimal.toString()`` of ``value`` (unscaled digits and scale taken from the Decimal)."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    sign, digits, exponent = value.as_tuple()
    exponent = int(exponent)  # finite, so an int
    coefficient = "".join(map(str, digits)).lstrip("0") or "0"
    if coefficient == "0":
        sign = 0  # Java has no negative zero
    scale = -exponent
    adjusted = -scale + (len(coefficient) - 1)
    prefix = "-" if sign else ""
    if scale >= 0 and adjusted >= -6:
        if scale == 0:
            return prefix + coefficient
        if len(coefficient) > scale:
            return f"{prefix}{coefficient[:-scale]}.{coefficient[-scale:]}"
        return f"{prefix}0.{coefficient.rjust(scale, '0')}"
    mantissa = coefficient if len(coefficient) == 1 else f"{coefficient[0]}.{coefficient[1:]}"
    exp = f"+{adjusted}" if adjusted >= 0 else str(adjusted)
    return f"{prefix}{mantissa}E{exp}"


def amount8(value: Decimal) -> Decimal:
    """The amount with scale 8 (Binance prints webhook amounts as ``setScale(8)``)."""
    return value.quantize(_SCALE8)


def plain8(value: Decimal) -> str:
    """Scale-8 plain string, as the refund API prints amounts (``"0.01000000"``)."""
    return format(amount8(value), "f")


def dumps_java(obj: Any) -> str:
    """Compact JSON text with Java-style numbers; see the module docstring."""
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts)


def _write(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, Decimal):
        out.append(java_decimal(obj))
    elif isinstance(obj, dict):
        out.append("{")
        for i, (key, val) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(val, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, val in enumerate(obj):
            if i:
                out.append(",")
            _write(val, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(obj).__name__}")
