"""Who may read metrics: `GET /metrics` on the web processes and the worker's exporter.

Two settings, both checked when set:

- PAYSVC_METRICS_ALLOWED_NETWORKS: the direct peer's address (REMOTE_ADDR, never
  X-Forwarded-For: Prometheus scrapes gunicorn and the worker directly, not through nginx) must
  be in one of these networks, else 403. Default: loopback only.
- PAYSVC_METRICS_TOKEN: when set, `Authorization: Bearer <token>` is required, else 401.

Metrics carry no secrets, but they tell an outsider how busy the service is, how many payments
fail and which Binance endpoints misbehave; nginx also refuses /metrics on the public side.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """CIDR strings (a bare address is a /32 or /128). Raises ValueError naming a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            message = f"PAYSVC_METRICS_ALLOWED_NETWORKS: {value!r} is not a network"
            raise ValueError(message) from exc
    return networks


def address_allowed(remote_addr: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def bearer_matches(authorization: str, token: str) -> bool:
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value:
        return False
    return hmac.compare_digest(value.strip().encode("utf-8"), token.encode("utf-8"))


def access_error(*, remote_addr: str, authorization: str) -> tuple[int, str] | None:
    """None when the caller may read metrics, else (HTTP status, reason) to answer with."""
    networks = parse_networks(settings.PAYSVC_METRICS_ALLOWED_NETWORKS)
    if not address_allowed(remote_addr, networks):
        return 403, "metrics are not served to this address"
    token = settings.PAYSVC_METRICS_TOKEN
    if token and not bearer_matches(authorization, token):
        return 401, "metrics need Authorization: Bearer <PAYSVC_METRICS_TOKEN>"
    return None


WWW_AUTHENTICATE = 'Bearer realm="metrics"'
