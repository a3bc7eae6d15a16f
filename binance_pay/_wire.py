"""Mapping between frozen request dataclasses and Binance's JSON field names.

A model subclasses ``Wire`` and lists ``_WIRE`` = ``(attribute, binanceKey)`` pairs in the order
``to_dict`` emits them, and ``_KINDS`` = the ``from_dict`` conversion per attribute: ``"str"``
(default), ``"int"``, ``"bool"``, ``"decimal"``, a ``Wire`` subclass (nested object) or
``ListOf(WireSubclass)`` (a JSON array of objects, held as a tuple).

Error messages name the dotted field path (``goods.goodsName: required``, ``goodsDetails[1].
goodsType: required``). A model's own ``__post_init__`` checks name the field relative to the
model (``goodsName: ...``); ``from_dict`` prefixes them with the path of the object being read,
so one model class serves every place it appears in (``goods`` in v2, ``goodsDetails[i]`` in v3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self

from binance_pay._fields import parse_decimal
from binance_pay._json import plain_decimal

__all__ = ["ListOf", "Wire", "unwrap", "wire_value"]


@dataclass(frozen=True)
class ListOf:
    """``_KINDS`` tag: a JSON array whose items are ``item`` objects (a tuple in the model)."""

    item: type[Wire]


def wire_value(value: Any) -> Any:
    """A model value as JSON-ready data: nested models as dicts, tuples as lists, Decimals as
    plain-notation strings (Create Order accepts numeric strings:
    docs/binance-pay.md#create-order)."""
    if isinstance(value, Wire):
        return value.to_dict()
    if isinstance(value, tuple):
        return [wire_value(item) for item in value]
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return value


def _convert(kind: object, value: Any, path: str) -> Any:
    """Convert one wire value for ``from_dict``; ``kind`` is a ``_KINDS`` entry."""
    if isinstance(kind, type) and issubclass(kind, Wire):
        return kind.from_dict(value, path=f"{path}.")
    if isinstance(kind, ListOf):
        if not isinstance(value, list | tuple):
            raise ValueError(f"{path}: expected an array, got {type(value).__name__}")
        return tuple(
            kind.item.from_dict(item, path=f"{path}[{index}].") for index, item in enumerate(value)
        )
    if kind == "decimal":
        try:
            return parse_decimal(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    expected: type = {"str": str, "int": int, "bool": bool}[str(kind)]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"{path}: expected {expected.__name__}, got {type(value).__name__}")
    return value


class Wire:
    """Base of the request models: ``to_dict`` / ``from_dict`` driven by ``_WIRE`` and
    ``_KINDS`` (see the module docstring)."""

    _WIRE: ClassVar[tuple[tuple[str, str], ...]] = ()
    _KINDS: ClassVar[Mapping[str, object]] = {}

    def to_dict(self) -> dict[str, Any]:
        """Binance-named dict without ``None`` values; amounts as plain strings."""
        out: dict[str, Any] = {}
        for attr, key in self._WIRE:
            value = getattr(self, attr)
            if value is not None:
                out[key] = wire_value(value)
        return out

    @classmethod
    def _kwargs(cls, data: Any, path: str) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValueError(f"{path.rstrip('.') or cls.__name__}: expected an object")
        attrs = {key: attr for attr, key in cls._WIRE}
        unknown = sorted(str(key) for key in data if key not in attrs)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(path + key for key in unknown)}")
        kwargs = {
            attrs[key]: _convert(cls._KINDS.get(attrs[key], "str"), value, path + key)
            for key, value in data.items()
            if value is not None
        }
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            no_default = f.default is dataclasses.MISSING
            if no_default and f.default_factory is dataclasses.MISSING and f.name not in kwargs:
                key = dict(cls._WIRE)[f.name]
                raise ValueError(f"{path}{key}: required")
        return kwargs

    @classmethod
    def from_dict(cls, data: Any, *, path: str = "") -> Self:
        """Build from a Binance-named dict; ``ValueError`` naming the field on bad input."""
        kwargs = cls._kwargs(data, path)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"{path.rstrip('.') or cls.__name__}: {exc}") from None
        except ValueError as exc:
            # The constructor names fields relative to this object; give the full path.
            raise ValueError(f"{path}{exc}") from None


def unwrap(value: Any, key: str, path: str) -> Any:
    """``{"key": v}`` -> ``v``; ``None`` stays ``None``; anything else is rejected."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected an object")
    extra = sorted(str(k) for k in value if k != key)
    if extra:
        raise ValueError(f"unknown field(s): {', '.join(f'{path}.{k}' for k in extra)}")
    return value.get(key)
