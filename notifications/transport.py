"""POST one notification body to a merchant URL, safely (SSRF defence, docs/reliability.md#40-ssrf).

The host is resolved once with `resolve_public_addresses` (which refuses private, loopback,
link-local... addresses unless allowed) and the connection goes to THAT address, while the Host
header, TLS SNI and certificate check use the URL's name: a second DNS answer (DNS rebinding)
cannot send the request elsewhere. Redirects are never followed (a 3xx is a failed attempt), and
connect and read both have a timeout. No Django here: settings come in as arguments.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from requests.certs import where as ca_bundle_path
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from paysvc.netsafety import (
    UnsafeURLError,
    check_url_target,
    parse_host,
    resolve_public_addresses,
)

EXCERPT_CHARS = 500
_READ_BYTES = 2048  # enough for the excerpt; the rest of a large answer is never read
_MAX_ADDRESSES = 3  # addresses tried when connecting fails (nothing was sent yet)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt produced. `refused`: the URL was not allowed, nothing was sent."""

    status_code: int | None = None
    response_excerpt: str = ""
    error: str = ""
    refused: bool = False
    duration_ms: int = 0
    address: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def ca_bundle() -> str:
    """The CA certificates that merchant HTTPS endpoints are checked against (certifi's)."""
    return ca_bundle_path()


def post(
    *,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    allow_private: bool,
    connect_timeout: float,
    read_timeout: float,
) -> DeliveryResult:
    """POST `body` to `url` once, pinned to a checked address. Never raises for network errors."""
    started = time.monotonic()

    def done(**fields: object) -> DeliveryResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return DeliveryResult(duration_ms=elapsed, **fields)  # type: ignore[arg-type]

    try:
        check_url_target(url, allow_private=allow_private)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS[scheme]
        target = parse_host(parts.hostname or "")
        addresses = resolve_public_addresses(str(target), port, allow_private=allow_private)
    except UnsafeURLError as exc:
        return done(refused=True, error=_clip(f"refused: {exc}"))
    except OSError as exc:  # socket.gaierror: DNS failed, may work later
        return done(error=_clip(f"DNS resolution failed: {exc}"))

    name = f"[{target}]" if isinstance(target, ipaddress.IPv6Address) else str(target)
    host_header = name if parts.port is None else f"{name}:{parts.port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = {**headers, "Host": host_header, "Connection": "close"}
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)

    error = ""
    for address in addresses[:_MAX_ADDRESSES]:
        pool = _pool(scheme, address, port, timeout=timeout, server_name=str(target))
        try:
            response = pool.urlopen(
                "POST",
                path,
                body=body,
                headers=request_headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except ConnectTimeoutError as exc:  # not connected: nothing sent, try the next address
            what = "connection failed" if isinstance(exc, NewConnectionError) else "connect timeout"
            error = f"{what} to {address}: {_reason(exc)}"
            pool.close()
            continue
        except Urllib3Timeout as exc:
            pool.close()
            return done(error=_clip(f"timeout ({_reason(exc)})"), address=address)
        except (HTTPError, OSError) as exc:
            pool.close()
            return done(error=_clip(f"connection error: {_reason(exc)}"), address=address)
        try:
            excerpt = _excerpt(response)
        finally:
            response.close()
            pool.close()
        status = response.status
        problem = ""
        if 300 <= status < 400:
            problem = f"HTTP {status}: redirects are not followed"
        elif not 200 <= status < 300:
            problem = f"HTTP {status}"
        return done(status_code=status, response_excerpt=excerpt, error=problem, address=address)
    return done(error=_clip(error or "no address to connect to"))


def _pool(
    scheme: str, address: str, port: int, *, timeout: urllib3.Timeout, server_name: str
) -> urllib3.HTTPConnectionPool:
    common = {"port": port, "timeout": timeout, "retries": False, "maxsize": 1}
    if scheme == "https":
        # Connect to `address`; SNI and the certificate check use the URL's host name.
        return urllib3.HTTPSConnectionPool(
            address,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle(),
            server_hostname=server_name,
            **common,  # type: ignore[arg-type]
        )
    return urllib3.HTTPConnectionPool(address, **common)  # type: ignore[arg-type]


def _excerpt(response: urllib3.BaseHTTPResponse) -> str:
    try:
        data = response.read(_READ_BYTES, decode_content=False)
    except (HTTPError, OSError):
        return ""  # the status line arrived; a slow or broken body does not change the outcome
    return data.decode("utf-8", "replace")[:EXCERPT_CHARS]


def _reason(exc: BaseException) -> str:
    text = str(exc)
    # NewConnectionError starts with the repr of urllib3's connection object: drop it.
    return text.split(">: ", 1)[-1] if isinstance(exc, NewConnectionError) else text


def _clip(text: str) -> str:
    return text[:EXCERPT_CHARS]
