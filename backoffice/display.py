"""Rendering helpers shared by the admin classes: labels, amounts, long values, short ids,
moments, pretty JSON, redacted headers.

Labels: one convention on every admin page, sentence case with acronyms in capitals ("Prepay
ID", "Checkout URL", "QR content", "Total fee"). Why not Binance's camelCase names: Django
capitalises the first letter of every label and the lists upper-case their column headers, so
"checkoutUrl" reaches the screen as "CheckoutUrl" and "MERCHANTTRADENO"; sentence case is how
Django already labels every model field, so one convention needs no template of Django's
overridden. A Binance field keeps Binance's words in Binance's order (checkoutUrl -> "Checkout
URL", bizIdStr -> "Biz ID str"), so each label maps back to its API name; the exact API names
stay where staff type or parse them: the search help texts and the CSV export's header.
Model fields whose Django label would misspell an acronym ("Prepay id", "Return url") are shown
through `field_shown`, which keeps Django's rendering of the field.

Amounts: as Binance writes them (no exponent, no trailing zeros: 25.17, never 25.17000000),
followed by their currency when the row knows it (`money`, `amount_shown`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import display_for_field
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.charts import amount_text

EMPTY = "-"
# A list column's id wraps after this many characters (a 32-character id takes two lines).


def money(value: Decimal | None, currency: str = "") -> SafeString | str:
    """An amount with its currency ("25.17 USDT"); "-" when there is none."""
    if value is None:
        return EMPTY
    text = f"{amount_text(value)} {currency}".strip()
    return format_html('<span class="bo-amount">{}</span>', text)


def long_value(value: str, *, link: bool = False) -> SafeString | str:
    """A long value (URL, deeplink, QR content) wrapped to the column, never wider than the
    page, with a Copy button for the whole of it. A link only for http(s) URLs: a stored value
    is never trusted as a scheme."""
    if not value:
        return EMPTY
    if link and value.startswith(("https://", "http://")):
        text = format_html(
            '<a href="{}" class="bo-long-text" target="_blank" rel="noopener noreferrer">{}</a>',
            value,
            value,
        )
    else:
        text = format_html('<span class="bo-long-text">{}</span>', value)
    return format_html(
        '<span class="bo-long">{}<button type="button" class="bo-copy" data-copy="{}" '
        'title="Copy the whole value">Copy</button></span>',
        text,
        value,
    )


def short_id(value: str | None) -> SafeString | str:
    """A list column's id, whole, wrapping after 18 characters (.bo-id in backoffice/admin.css):
    a list of 32-character ids fits 1280 px without cutting any of them."""
    if not value:
        return EMPTY
    return format_html('<span class="bo-id">{}</span>', value)


def moment(value: Any) -> SafeString | str:
    """A list column's time: "2026-12-03 12:27" in the site's time zone, seconds in the tooltip."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value)
    return format_html(
        '<time class="bo-moment" datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        f"{local:%Y-%m-%d %H:%M:%S %Z}",
        f"{local:%Y-%m-%d %H:%M}",
    )


def _attribute(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = None if obj is None else getattr(obj, name)
    return obj


def field_shown(name: str, label: str) -> Callable[[Any, Any], Any]:
    """An admin display method showing model field `name` as Django renders it, under `label`
    (sortable by the field in lists)."""

    @admin.display(description=label, ordering=name)
    def show(model_admin: Any, obj: Any) -> Any:
        field = obj._meta.get_field(name)
        return display_for_field(getattr(obj, name), field, model_admin.get_empty_value_display())

    show.__name__ = f"{name}_shown"
    return show


def amount_shown(name: str, label: str, *, currency: str) -> Callable[[Any, Any], Any]:
    """An admin display method for amount field `name` with the currency found at the dotted
    path `currency` of the row ("currency", "order.currency")."""

    @admin.display(description=label, ordering=name)
    def show(model_admin: Any, obj: Any) -> SafeString | str:
        return money(getattr(obj, name), _attribute(obj, currency) or "")

    show.__name__ = f"{name}_shown"
    return show


def long_shown(name: str, label: str, *, link: bool = False) -> Callable[[Any, Any], Any]:
    """An admin display method for a long text field (see `long_value`)."""

    @admin.display(description=label)
    def show(model_admin: Any, obj: Any) -> SafeString | str:
        return long_value(getattr(obj, name) or "", link=link)

    show.__name__ = f"{name}_shown"
    return show


def id_shown(name: str, label: str) -> Callable[[Any, Any], Any]:
    """An admin display method for an id column of a list (see `short_id`)."""

    @admin.display(description=label, ordering=name.replace(".", "__"))
    def show(model_admin: Any, obj: Any) -> SafeString | str:
        return short_id(_attribute(obj, name))

    show.__name__ = f"{name.replace('.', '_')}_shown"
    return show


def moment_shown(name: str, label: str) -> Callable[[Any, Any], Any]:
    """An admin display method for a time column of a list (see `moment`)."""

    @admin.display(description=label, ordering=name)
    def show(model_admin: Any, obj: Any) -> SafeString | str:
        return moment(getattr(obj, name))

    show.__name__ = f"{name}_moment"
    return show


# Header names whose values are never shown (compared case-insensitively).
SECRET_HEADERS = frozenset({"binancepay-signature", "authorization", "paysvc-signature"})


def json_text(value: Any) -> str:
    """Indented JSON for people; Decimals as their exact text; non-JSON text kept as it is."""
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return amount_text(value)
    return str(value)


def pre_json(value: Any) -> SafeString:
    if value in (None, "", {}, []):
        return format_html('<span class="bo-muted">{}</span>', "-")
    return format_html('<pre class="bo-json">{}</pre>', json_text(value))


def redacted_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """The stored request headers with every signature/credential value replaced by
    "present (N chars)": enough to debug, nothing to replay."""
    shown: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if name.lower() in SECRET_HEADERS:
            shown[name] = f"present ({len(str(value))} chars)" if value else "absent"
        else:
            shown[name] = str(value)
    return shown
