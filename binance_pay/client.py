"""Binance Pay merchant API client (docs/binance-pay.md#requests, docs/binance-pay.md#endpoints).

Contract (docs/conventions.md#rule-4):

* every call is a signed ``POST``; the body is encoded once, those exact bytes are signed and
  sent (docs/binance-pay.md#request-signing, docs/binance-pay.md#gotcha-sign-what-you-send);
* every call has ``timeout=(connect_timeout, read_timeout)``; the response body must also
  arrive within ``read_timeout`` of the headers and stay under ``MAX_RESPONSE_BYTES``;
* there are no automatic retries (``max_retries=0``, no redirects): on ``TransportError`` the
  outcome is unknown and the caller must query before retrying;
* results are dataclasses with ``Decimal`` amounts; failures are ``TransportError`` /
  ``RateLimitError`` (outcome unknown) or ``ApiError`` (Binance said no).

Thread safety: a client may be shared by threads. It keeps no per-call state on ``self``; the
``requests.Session`` it builds has a connection pool of ``pool_maxsize`` and refuses cookies, so
concurrent calls share nothing mutable but the pool (which is thread-safe in urllib3).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from binance_pay._envelope import interpret_response
from binance_pay.errors import TransportError, excerpt
from binance_pay.models import CreateOrderRequest, check_amount
from binance_pay.order_v3 import CreateOrderV3Request
from binance_pay.results import (
    Certificate,
    OrderResult,
    QueryOrderResult,
    RefundQueryResult,
    RefundResult,
    ShareAccountResult,
)
from binance_pay.signing import encode_body, signed_headers

__all__ = ["BinancePayClient", "CallRecord", "ClientConfig", "build_session"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RESPONSE_BYTES = 2 * 1024 * 1024
RECORD_TEXT_CHARS = 2000

PATH_CREATE_ORDER = "/binancepay/openapi/v2/order"
PATH_CREATE_ORDER_V3 = "/binancepay/openapi/v3/order"
PATH_QUERY_ORDER = "/binancepay/openapi/v2/order/query"
PATH_CLOSE_ORDER = "/binancepay/openapi/order/close"
PATH_REFUND = "/binancepay/openapi/order/refund"
PATH_QUERY_REFUND = "/binancepay/openapi/order/refund/query"
PATH_CERTIFICATES = "/binancepay/openapi/certificates"
PATH_SHARE_ACCOUNT_ID = "/binancepay/openapi/shareinfo/accountId"


@dataclass(frozen=True)
class ClientConfig:
    """Credentials and transport settings. ``repr()`` never shows ``secret_key``."""

    api_key: str
    secret_key: str = field(repr=False)
    base_url: str = "https://bpay.binanceapi.com"
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    pool_maxsize: int = 20
    user_agent: str = "paysvc-binance-pay/0.1"

    def __post_init__(self) -> None:
        if not self.api_key or not isinstance(self.api_key, str):
            raise ValueError("api_key is required")
        if not self.secret_key or not isinstance(self.secret_key, str):
            raise ValueError("secret_key is required")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must start with https:// or http://")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.pool_maxsize < 1:
            raise ValueError("pool_maxsize must be at least 1")


@dataclass(frozen=True)
class CallRecord:
    """What ``on_call`` receives after every call. Holds no headers, signature or secret.

    ``request_body`` is the exact bytes sent; ``http_status`` and ``response_text`` (cut to
    2000 characters) are ``None`` when no response arrived; ``error`` is the exception the call
    raised, or ``None``.
    """

    path: str
    request_body: bytes
    http_status: int | None
    response_text: str | None
    duration_ms: float
    error: BaseException | None


def build_session(config: ClientConfig) -> requests.Session:
    """A ``requests.Session`` with a pool of ``pool_maxsize``, no retries and no cookies."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=config.pool_maxsize, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Cookies would be shared mutable state between threads, and Binance needs none.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    # With trust_env, requests reads the environment again on every call (proxy variables and
    # NO_PROXY for the URL, the CA bundle variables, ~/.netrc): a tenth of paysvc's CPU per order
    # (bench/README.md). This client calls one host, so read the same variables once, here, with
    # requests' own rules; ~/.netrc credentials are not used (Binance is signed per request).
    session.proxies.update(requests.utils.get_environ_proxies(config.base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    session.verify = bundle or True
    session.trust_env = False
    return session


@dataclass(frozen=True)
class _Response:
    status: int
    content: bytes
    retry_after: str | None


class BinancePayClient:
    """Binance Pay merchant client; see the module docstring for the contract.

    ``session``: optional ``requests.Session`` to use instead of building one (it should not
    retry). ``on_call``: optional hook called with a ``CallRecord`` after every call; exceptions
    it raises are logged and swallowed.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        session: requests.Session | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self._config = config
        self._owns_session = session is None
        self._session = session if session is not None else build_session(config)
        self._on_call = on_call
        self._base_url = config.base_url.rstrip("/")

    @property
    def config(self) -> ClientConfig:
        return self._config

    def close(self) -> None:
        """Close the session if this client built it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> BinancePayClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def create_order(self, request: CreateOrderRequest) -> OrderResult:
        """Create Order v2. ``ApiError`` 400201 means invalid or duplicate ``merchantTradeNo``."""
        return self._execute(PATH_CREATE_ORDER, request.to_dict(), OrderResult.from_dict)

    def create_order_v3(self, request: CreateOrderV3Request) -> OrderResult:
        """Create Order v3 (docs/binance-pay-v3.md). Same signing, timeouts, ``CallRecord`` and
        errors as ``create_order``; the answer has the v2 ``OrderResult`` shape (section 5).
        ``ApiError`` 400201 means invalid or duplicate ``merchantTradeNo``."""
        return self._execute(PATH_CREATE_ORDER_V3, request.to_dict(), OrderResult.from_dict)

    def query_order(
        self, *, prepay_id: str | None = None, merchant_trade_no: str | None = None
    ) -> QueryOrderResult:
        """Query Order v2 by exactly one of ``prepay_id`` / ``merchant_trade_no``."""
        payload = _one_order_id(prepay_id, merchant_trade_no)
        return self._execute(PATH_QUERY_ORDER, payload, QueryOrderResult.from_dict)

    def close_order(
        self, *, prepay_id: str | None = None, merchant_trade_no: str | None = None
    ) -> bool:
        """Ask Binance to close an unpaid order. ``True`` means the request was accepted; the
        outcome arrives as a ``PAY_CLOSED`` webhook (docs/binance-pay.md#close-order)."""
        payload = _one_order_id(prepay_id, merchant_trade_no)
        return self._execute(PATH_CLOSE_ORDER, payload, _boolean)

    def refund(
        self,
        *,
        refund_request_id: str,
        prepay_id: str,
        refund_amount: Decimal,
        refund_reason: str | None = None,
        webhook_url: str | None = None,
    ) -> RefundResult:
        """Request a (partial) refund. Reuse ``refund_request_id`` when retrying the same refund:
        it is Binance's idempotency key (docs/binance-pay.md#refund-order)."""
        check_amount(refund_amount, "refundAmount")
        payload: dict[str, Any] = {
            "refundRequestId": _text(refund_request_id, "refund_request_id"),
            "prepayId": _text(prepay_id, "prepay_id"),
            "refundAmount": refund_amount,
        }
        _put(payload, "refundReason", refund_reason)
        _put(payload, "webhookUrl", webhook_url)
        return self._execute(PATH_REFUND, payload, RefundResult.from_dict)

    def query_refund(self, *, refund_request_id: str) -> RefundQueryResult:
        """Query Refund by the merchant's ``refund_request_id``
        (docs/binance-pay.md#query-refund)."""
        payload = {"refundRequestId": _text(refund_request_id, "refund_request_id")}
        return self._execute(PATH_QUERY_REFUND, payload, RefundQueryResult.from_dict)

    def query_certificates(self) -> list[Certificate]:
        """Binance's webhook public keys. The body sent is exactly ``{}``
        (docs/binance-pay.md#transport, docs/binance-pay.md#query-certificates)."""
        return self._execute(PATH_CERTIFICATES, {}, _certificates)

    def share_account_id(
        self,
        *,
        request_id: str,
        sub_merchant_id: str | None = None,
        webhook_url: str | None = None,
    ) -> ShareAccountResult:
        """Ask a user to share their Binance ID; the answer is a ``SHARE_ACCOUNT_ID`` webhook."""
        payload: dict[str, Any] = {}
        _put(payload, "subMerchantId", sub_merchant_id)
        payload["requestId"] = _text(request_id, "request_id")
        _put(payload, "webhookUrl", webhook_url)
        return self._execute(PATH_SHARE_ACCOUNT_ID, payload, ShareAccountResult.from_dict)

    def call(self, path: str, payload: dict[str, Any]) -> Any:
        """Low-level signed POST to ``path``; returns the envelope's ``data`` unparsed."""
        return self._execute(path, payload, _identity)

    # -- transport ---------------------------------------------------------------------------

    def _execute(self, path: str, payload: dict[str, Any], parse: Callable[[Any], T]) -> T:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        # docs/binance-pay.md#request-signing: built once; these bytes are signed and sent
        body = encode_body(payload)
        headers = signed_headers(
            api_key=self._config.api_key, secret=self._config.secret_key, body=body
        )
        headers["User-Agent"] = self._config.user_agent
        headers["Accept"] = "application/json"
        started = time.monotonic()
        response: _Response | None = None
        error: Exception | None = None
        try:
            response = self._send(self._base_url + path, body, headers)
            data = interpret_response(response.status, response.content, response.retry_after)
            return parse(data)
        except Exception as exc:
            error = exc
            raise
        finally:
            self._record(path, body, response, started, error)

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> _Response:
        cfg = self._config
        try:
            resp = self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=(cfg.connect_timeout, cfg.read_timeout),
                allow_redirects=False,
                stream=True,
            )
            try:
                content = _read_body(resp, time.monotonic() + cfg.read_timeout)
            finally:
                resp.close()
        except requests.Timeout as exc:
            raise TransportError(f"timeout: {type(exc).__name__}") from exc
        except requests.ConnectionError as exc:
            raise TransportError(f"connection error: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            raise TransportError(f"request failed: {type(exc).__name__}") from exc
        return _Response(resp.status_code, content, resp.headers.get("Retry-After"))

    def _record(
        self,
        path: str,
        body: bytes,
        response: _Response | None,
        started: float,
        error: Exception | None,
    ) -> None:
        duration_ms = (time.monotonic() - started) * 1000.0
        status = response.status if response is not None else None
        logger.debug(
            "binance pay call %s status=%s duration_ms=%.1f error=%s",
            path,
            status,
            duration_ms,
            type(error).__name__ if error else None,
        )
        if self._on_call is None:
            return
        text = None
        if response is not None:
            text = excerpt(response.content.decode("utf-8", errors="replace"), RECORD_TEXT_CHARS)
        record = CallRecord(path, body, status, text, duration_ms, error)
        try:
            self._on_call(record)
        except Exception:
            logger.exception("on_call hook failed for %s", path)


def _read_body(resp: requests.Response, deadline: float) -> bytes:
    """Read at most ``MAX_RESPONSE_BYTES`` before ``deadline``, else ``TransportError``."""
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise TransportError("response too large", status_code=resp.status_code)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TransportError("response body too slow", status_code=resp.status_code)
    return b"".join(chunks)


def _one_order_id(prepay_id: str | None, merchant_trade_no: str | None) -> dict[str, str]:
    # docs/binance-pay.md#query-order: if both are given Binance silently prefers prepayId; refuse
    # the ambiguity.
    if (prepay_id is None) == (merchant_trade_no is None):
        raise ValueError("give exactly one of prepay_id or merchant_trade_no")
    if prepay_id is not None:
        return {"prepayId": _text(prepay_id, "prepay_id")}
    return {"merchantTradeNo": _text(merchant_trade_no, "merchant_trade_no")}


def _text(value: str | None, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _put(payload: dict[str, Any], key: str, value: str | None) -> None:
    if value is not None:
        payload[key] = value


def _identity(data: Any) -> Any:
    return data


def _boolean(data: Any) -> bool:
    if not isinstance(data, bool):
        raise TransportError("malformed response: close order data is not a boolean")
    return data


def _certificates(data: Any) -> list[Certificate]:
    if not isinstance(data, list):
        raise TransportError("malformed response: certificates data is not a list")
    return [Certificate.from_dict(item) for item in data]
