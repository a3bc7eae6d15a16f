"""Refuse outbound URLs that point into private networks (SSRF defence, OWASP API7:2023).

Two layers, both raising ``UnsafeURLError`` with a message that names the rule:

* ``check_url_target(url, allow_private=...)`` -- syntax only, no DNS. Used when a URL is accepted
  as input (``returnUrl``, ``cancelUrl``, ``notifyUrl``). IP literals are recognised in every
  notation an HTTP client or ``inet_aton`` would accept (``2130706433``, ``0x7f000001``,
  ``0177.0.0.1``, ``127.1``, ``[::ffff:127.0.0.1]``, full-width digits...), so a private address
  cannot hide behind an unusual spelling.
* ``resolve_public_addresses(host, port, allow_private=...)`` -- DNS, used at the moment of
  connecting. It refuses when ANY resolved address is non-public, and the caller must connect to
  one of the returned addresses (not resolve again), so DNS rebinding cannot swap one in later.

"Public" is decided by an explicit table of special-purpose ranges (IANA registries), not only by
``ipaddress.is_global``, whose answers differ between Python versions (3.11 calls 224.0.0.1 and
192.0.0.192 global).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from urllib.parse import urlsplit

__all__ = [
    "INTERNAL_HOSTNAMES",
    "INTERNAL_HOSTNAME_SUFFIXES",
    "UnsafeURLError",
    "check_url_target",
    "non_public_reason",
    "parse_host",
    "parse_ipv4_loose",
    "resolve_public_addresses",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")

# Names that only mean something inside a private network (RFC 6761, RFC 6762, RFC 8375,
# ICANN's reserved .internal, and names ICANN will never delegate because of collisions).
INTERNAL_HOSTNAMES = frozenset(
    {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"}
)
INTERNAL_HOSTNAME_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",  # includes metadata.google.internal
    ".intranet",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".corp",
    ".home",
)

# Special-purpose ranges, most specific reason first. IPv4-mapped IPv6 is judged by its IPv4 part.
_BLOCKED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified / 'this network'"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata lives here)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # includes the broadcast address 255.255.255.255
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "deprecated IPv4-compatible"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (incl. Teredo)"),
        ("2001:db8::/32", "documentation"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "deprecated site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")

_LABEL_RE = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.ASCII)
_NUMERIC_LABEL_RE = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*", re.ASCII)


class UnsafeURLError(ValueError):
    """A URL or host is malformed or targets a non-public address; ``str(exc)`` names the rule."""


def check_url_target(url: str, *, allow_private: bool) -> None:
    """Raise ``UnsafeURLError`` unless ``url`` is an http(s) URL aimed at a public host.

    Checks, without DNS: http/https only, no user credentials, a valid host and port, no
    characters that make parsers disagree (whitespace, controls, backslash). Unless
    ``allow_private``, IP literals must be public and internal host names are refused.
    """
    host = _url_host(url)
    target = parse_host(host)
    if not allow_private:
        _require_public_target(target, shown=host)


def resolve_public_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing if ANY of them is non-public.

    The caller must connect to one of the returned addresses (DNS-rebinding defence). DNS
    failures raise ``socket.gaierror`` unchanged, so callers can treat them as retryable.
    """
    if not isinstance(host, str):
        raise UnsafeURLError("host must be a string")
    target = parse_host(host.removeprefix("[").removesuffix("]"))
    if not allow_private:
        _require_public_target(target, shown=host)
    infos = socket.getaddrinfo(str(target), port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in infos:
        raw = str(sockaddr[0])
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        reason = non_public_reason(address)
        if reason and not allow_private:
            raise UnsafeURLError(
                f"host {host!r} resolves to {address}, which is not a public address "
                f"({reason}); refused (SSRF / DNS rebinding protection)"
            )
        if raw not in addresses:
            addresses.append(raw)
    if not addresses:
        raise UnsafeURLError(f"host {host!r} resolved to no addresses")
    return addresses


def parse_host(host: str) -> IPAddress | str:
    """Return the IP address ``host`` denotes (any notation) or its normalised DNS name.

    Normalisation: lower case, one trailing dot dropped, IDNA/nameprep applied to non-ASCII
    names (so full-width letters and digits become ASCII: a full-width "localhost" is
    ``localhost``), IPv6 zone ids dropped.
    Raises ``UnsafeURLError`` for anything that is neither a valid address nor a valid name.
    """
    if not host:
        raise UnsafeURLError("URL must have a host")
    if ":" in host:  # only IPv6 literals contain a colon once the port is split off
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise UnsafeURLError(f"host {host!r} is not a valid IPv6 address") from None
    if "%" in host:
        raise UnsafeURLError("host must not be percent-encoded")
    name = host.lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURLError(f"host {host!r} is not a valid domain name") from None
    name = name.removesuffix(".")
    labels = name.split(".")
    # WHATWG URL rule: a host whose last label is numeric is an IPv4 address or invalid.
    if _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        address = parse_ipv4_loose(name)
        if address is None:
            raise UnsafeURLError(f"host {host!r} looks like an IPv4 address but is not a valid one")
        return address
    if len(name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise UnsafeURLError(f"host {host!r} is not a valid domain name")
    return name


def parse_ipv4_loose(text: str) -> ipaddress.IPv4Address | None:
    """Parse an IPv4 address the way ``inet_aton`` and browsers do, or return None.

    Accepts 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last part fills the
    remaining bytes: ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` all mean 127.0.0.1.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or any(len(part) > 34 for part in parts):
        return None
    numbers = []
    for part in parts:
        if part[:2] in ("0x", "0X"):
            digits, base = part[2:] or "0", 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits.isascii() or not digits.isalnum():
            return None
        try:
            numbers.append(int(digits, base))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def non_public_reason(address: IPAddress) -> str | None:
    """Return why ``address`` is not publicly routable (e.g. ``"loopback"``), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:  # ::ffff:a.b.c.d reaches a.b.c.d
            reason = non_public_reason(mapped)
            return f"{reason}, IPv4-mapped {mapped}" if reason else None
        embedded = _embedded_ipv4(address)
        if embedded is not None and (reason := non_public_reason(embedded)):
            return f"{reason}, embedded in {address}"
    for network, reason in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or well-known-prefix NAT64 address forwards to, if any."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _url_host(url: str) -> str:
    """Check scheme, credentials, port and characters of ``url``; return its raw host."""
    if not isinstance(url, str):
        raise UnsafeURLError("URL must be a string")
    if any(_is_confusing_char(char) for char in url):
        raise UnsafeURLError("URL must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"URL is not valid ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or not url[: len(scheme) + 3].lower() == f"{scheme}://":
        raise UnsafeURLError("URL must start with http:// or https://")
    if "@" in parts.netloc:
        raise UnsafeURLError("URL must not contain user credentials (user:pass@host)")
    if port == 0:
        raise UnsafeURLError("URL port must be between 1 and 65535")
    if not parts.hostname:
        raise UnsafeURLError("URL must have a host")
    return parts.hostname


def _is_confusing_char(char: str) -> bool:
    # Parsers disagree about these (urlsplit silently drops tabs and newlines; browsers read a
    # backslash as a slash), which is how allow-list checks get bypassed.
    return (
        char == "\\"
        or char.isspace()
        or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Zs")
    )


def _require_public_target(target: IPAddress | str, *, shown: str) -> None:
    if isinstance(target, str):
        _require_public_name(target)
        return
    reason = non_public_reason(target)
    if reason:
        where = f"host {shown!r} ({target})" if shown != str(target) else f"host {target}"
        raise UnsafeURLError(
            f"{where} is not a public address ({reason}); refused (SSRF protection)"
        )


def _require_public_name(name: str) -> None:
    if name in INTERNAL_HOSTNAMES or name.endswith(INTERNAL_HOSTNAME_SUFFIXES):
        raise UnsafeURLError(
            f"host {name!r} is an internal name (localhost, .local, .internal, ...); "
            "refused (SSRF protection)"
        )
    if "." not in name:
        # Single-label names ("redis", "db", "metadata") resolve through search domains to
        # hosts inside our own network.
        raise UnsafeURLError(
            f"host {name!r} must be a fully qualified domain name; single-label names "
            "are refused (SSRF protection)"
        )


def allow_private_urls() -> bool:
    """Whether merchant-given URLs may target private networks (Django setting
    PAYSVC_ALLOW_PRIVATE_URLS: development and tests, where everything runs on loopback).
    Read at call time, so tests can toggle it."""
    from django.conf import settings

    return bool(getattr(settings, "PAYSVC_ALLOW_PRIVATE_URLS", False))
