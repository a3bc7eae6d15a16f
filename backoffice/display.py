"""Rendering helpers shared by the admin classes: pretty JSON, redacted headers, badges."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.charts import amount_text

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
