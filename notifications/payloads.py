"""What a merchant event looks like on the wire.

{"id": "evt_<32 hex>", "type": "order.paid", "createdAt": "2025-01-01T00:00:00.000000Z",
 "data": {<the resource, as the merchant API shows it>}}
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from rest_framework import serializers


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def new_delivery_id() -> str:
    return f"dlv_{uuid.uuid4().hex}"


def event_object(*, event_id: str, event_type: str, created_at: Any, data: dict[str, Any]) -> dict:
    """The event as sent; `createdAt` in the API's own ISO 8601 UTC format."""
    return {
        "id": event_id,
        "type": event_type,
        "createdAt": serializers.DateTimeField().to_representation(created_at),
        "data": data,
    }


def event_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: compact JSON, keys sorted so that every attempt sends the same
    bytes whichever database stored the payload (PostgreSQL's jsonb reorders keys)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
