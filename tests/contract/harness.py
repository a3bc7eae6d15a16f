"""The two sides of the Create Order v2 contract, fed the same merchant body and the same clock.

paysvc: the body is parsed as the merchant API parses it (``DecimalJSONParser``), validated by
``CreateOrderSerializer``, and, when accepted, turned into the bytes paysvc would send Binance by
the production path (``binance_payload`` -> JSON column -> ``CreateOrderRequest.from_dict`` ->
``to_dict`` -> ``encode_body``).

Sandbox (the oracle): a signed ``POST /binancepay/openapi/v2/order`` through the in-process WSGI
app, on its fake clock, so the gateway, authentication, JSON decoding, schema and business rules
all take part. When paysvc accepted, the sandbox gets paysvc's outgoing bytes (does what paysvc
says OK really pass at Binance?); when paysvc refused, it gets the body the merchant would have
sent Binance directly (is paysvc stricter than Binance?), with a ``merchantTradeNo`` added when
the merchant left it to paysvc.

Nothing here is shared with either side: the signer and the JSON writer are the test's own.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from werkzeug.test import Client

API_KEY = "c" * 32 + "contract0123456789abcdefghijklmn"
SECRET = "contract-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDE"
NOW = 1_750_000_000_000  # 2025-06-15T15:06:40Z: both validators read this as "now"
PAYSVC_WEBHOOK_URL = "https://paysvc.example.com/webhooks/binance-pay"
DAY = 24 * 3600 * 1000

DELETE = object()  # a mutation value: remove the key


class Raw(str):
    """A JSON number written exactly as given (``1e2``, ``007``, ``1.50``), for the JSON writer."""


def dumps(value: Any) -> str:
    """JSON text for a test body: Decimal and ``Raw`` as number literals, strings ASCII-escaped
    (so lone surrogates survive), keys in insertion order."""
    if isinstance(value, Raw):
        return str(value)
    if value is None or isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(type(value).__name__)


def set_path(body: dict[str, Any], path: str, value: Any, parents: dict[str, Any]) -> None:
    """Set dotted ``path`` (or delete it for ``DELETE``); a missing parent object is created from
    ``parents`` (its minimal valid content), a non-object parent is replaced by one."""
    *heads, leaf = path.split(".")
    node = body
    walked = ""
    for head in heads:
        walked = f"{walked}.{head}" if walked else head
        child = node.get(head)
        if not isinstance(child, dict):
            if value is DELETE:
                return
            child = json.loads(json.dumps(parents.get(walked, {})))
            node[head] = child
        node = child
    if value is DELETE:
        node.pop(leaf, None)
    else:
        node[leaf] = copy.deepcopy(value)  # strategies share their example objects


# -- paysvc ---------------------------------------------------------------------------------------
@dataclass
class PaysvcVerdict:
    accepted: bool
    errors: dict[str, list[str]] = field(default_factory=dict)
    outgoing: bytes | None = None  # the bytes paysvc would send Binance
    crash: str | None = None  # accepted, but building the Binance request failed


def paysvc_validate(text: str) -> PaysvcVerdict:
    from rest_framework.exceptions import ParseError

    from binance_pay import CreateOrderRequest
    from binance_pay.signing import encode_body
    from clients.parsers import DecimalJSONParser
    from orders.services.orders import binance_payload, jsonable, new_merchant_trade_no
    from orders.validation import CreateOrderSerializer
    from paysvc.exceptions import flatten_errors

    try:
        data = DecimalJSONParser().parse(io.BytesIO(text.encode("utf-8", "surrogatepass")))
    except ParseError as exc:
        return PaysvcVerdict(False, {"(json)": [str(exc.detail)]})
    serializer = CreateOrderSerializer(data=data)
    if not serializer.is_valid():
        return PaysvcVerdict(False, flatten_errors(serializer.errors))
    validated = serializer.validated_data
    trade_no = validated.get("merchantTradeNo") or new_merchant_trade_no()
    try:
        # As order_create stores it (a JSON column) and order_submit reads it back.
        stored = json.loads(json.dumps(jsonable(binance_payload(validated, trade_no))))
        outgoing = encode_body(CreateOrderRequest.from_dict(stored).to_dict())
    except (TypeError, ValueError, UnicodeError) as exc:
        return PaysvcVerdict(True, crash=f"{type(exc).__name__}: {exc}")
    return PaysvcVerdict(True, outgoing=outgoing)


# -- the sandbox ----------------------------------------------------------------------------------
@dataclass
class SandboxVerdict:
    accepted: bool
    code: str
    message: str

    @property
    def path(self) -> str:
        """The field the sandbox names (``goods.goodsName: ...``), or "" when none."""
        head, sep, _ = self.message.partition(": ")
        return head if sep and re.fullmatch(r"[A-Za-z0-9_.\[\]]+", head) else ""


class Sandbox:
    """The sandbox WSGI app driven in-process, every request signed, on a fixed clock."""

    def __init__(self, tmp_dir: str, key_pem: bytes) -> None:
        from sandbox.app import create_app
        from sandbox.config import SandboxConfig

        self.now = NOW
        config = SandboxConfig(
            db_path=f"{tmp_dir}/contract-sandbox.sqlite3",
            api_key=API_KEY,
            secret_key=SECRET,
            rsa_key_pem=key_pem,
            run_dispatcher=False,
            clock=lambda: self.now,
            public_url="http://sandbox.test",
            refund_auto="manual",
        )
        self.app = create_app(config)
        self.client = Client(self.app)

    def close(self) -> None:
        self.app.close()

    def create_order(self, body: bytes) -> SandboxVerdict:
        timestamp, nonce = str(self.now), uuid.uuid4().hex
        payload = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        signature = hmac.new(SECRET.encode(), payload, hashlib.sha512).hexdigest().upper()
        try:
            response = self._post(body, timestamp, nonce, signature)
        except Exception as exc:  # the sandbox must answer every body, never crash
            return SandboxVerdict(False, "crash", f"{type(exc).__name__}: {exc}")
        answer = response.get_json()
        assert response.status_code == 200 and isinstance(answer, dict), response.get_data()
        if answer.get("status") == "SUCCESS":
            # merchantTradeNo must stay free for the next case: forget the order (and nonces).
            reset = self.client.post("/sandbox/reset")
            assert reset.status_code == 200, reset.get_data()
            return SandboxVerdict(True, answer["code"], "")
        return SandboxVerdict(False, str(answer.get("code")), str(answer.get("errorMessage")))

    def _post(self, body: bytes, timestamp: str, nonce: str, signature: str) -> Any:
        return self.client.post(
            "/binancepay/openapi/v2/order",
            data=body,
            headers={
                "Content-Type": "application/json",
                "BinancePay-Timestamp": timestamp,
                "BinancePay-Nonce": nonce,
                "BinancePay-Certificate-SN": API_KEY,
                "BinancePay-Signature": signature,
            },
        )


def direct_body(text: str) -> bytes:
    """What the merchant would have sent Binance directly: the same body, plus the
    ``merchantTradeNo`` paysvc generates when the merchant gives none."""
    try:
        body = json.loads(text, parse_float=Raw, parse_int=Raw)
    except ValueError:
        return text.encode("utf-8", "surrogatepass")
    if isinstance(body, dict) and body.get("merchantTradeNo") is None:
        body["merchantTradeNo"] = uuid.uuid4().hex
        return dumps(body).encode()
    return text.encode("utf-8", "surrogatepass")


# -- deliberate exceptions ------------------------------------------------------------------------
@dataclass(frozen=True)
class Stricter:
    """A rule where paysvc deliberately refuses what Binance (the sandbox) accepts.

    It excuses a paysvc error whose dotted path fully matches ``path``, whose message matches
    ``message`` (regex search) and, when ``when`` is given, for which ``when(body, path, message)``
    is true (``body``: the parsed merchant body). A body paysvc refuses
    and the sandbox accepts passes only when every paysvc error is excused by some rule.
    """

    name: str
    reason: str
    path: str
    message: str
    when: Callable[[Any, str, str], bool] | None = None

    def excuses(self, body: Any, path: str, message: str) -> bool:
        if not (re.fullmatch(self.path, path) and re.search(self.message, message)):
            return False
        return self.when is None or self.when(body, path, message)


MISSING = object()


def value_at(body: Any, path: str) -> Any:
    node = body
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _errors(
    text: str, errors: dict[str, list[str]], rules: tuple[Stricter, ...]
) -> Iterator[tuple[str, str, list[str]]]:
    try:
        body = json.loads(text, parse_float=Decimal)
    except ValueError:
        body = None
    for path, messages in errors.items():
        for message in messages:
            yield path, message, [r.name for r in rules if r.excuses(body, path, message)]


def unexcused(
    text: str, errors: dict[str, list[str]], rules: tuple[Stricter, ...]
) -> dict[str, list[str]]:
    """The paysvc errors on body ``text`` that no rule excuses."""
    left: dict[str, list[str]] = {}
    for path, message, names in _errors(text, errors, rules):
        if not names:
            left.setdefault(path, []).append(message)
    return left


def excused_by(text: str, errors: dict[str, list[str]], rules: tuple[Stricter, ...]) -> set[str]:
    """The names of the rules that excuse paysvc's errors on body ``text``."""
    return {name for _, _, names in _errors(text, errors, rules) for name in names}


# -- repair: from a refused body to the nearest body paysvc accepts ------------------------------
def repair(
    text: str, errors: dict[str, list[str]], baseline: dict[str, Any], parents: dict[str, Any]
) -> tuple[str, PaysvcVerdict] | None:
    """The body ``text`` with what paysvc complained about fixed (each error path set to its
    baseline value, or removed when the baseline has none), again until paysvc accepts it (at
    most 4 rounds). Returns (body, paysvc's verdict) once accepted, else None.

    Both sides refusing a body proves little when they refuse for different reasons: the rest of
    the body may hold a value paysvc accepts and Binance would not. The repaired body puts that
    rest through the "paysvc accepts" check."""
    try:
        body = json.loads(text, parse_float=Decimal)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for _ in range(4):
        if any(p in ("(json)", "non_field_errors") for p in errors):
            return None
        for path in sorted(errors):
            path = path.removesuffix(".non_field_errors")
            value = _lookup(baseline, path)
            set_path(body, path, DELETE if value is None else value, parents)
        text = dumps(body)
        verdict = paysvc_validate(text)
        if verdict.accepted:
            return text, verdict
        errors = verdict.errors
    return None


def _lookup(tree: dict[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return json.loads(json.dumps(node)) if isinstance(node, dict) else node
