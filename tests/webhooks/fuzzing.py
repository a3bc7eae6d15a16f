"""Hypothesis strategies for webhook bodies built from the bad-input catalogue
(docs/reliability.md#c1-webhook-bad-inputs), for tests/webhooks/test_fuzz.py.

Bodies are written by hand rather than by ``json.dumps`` so that they can hold what a
serialiser never produces: duplicate keys, raw number literals (``1e309``, ``NaN``, 400-digit
integers), lone surrogates and NUL (escaped, or written raw as invalid UTF-8), deep nesting,
truncation, a BOM, UTF-16. Most bodies start from a plausible Binance envelope
(docs/binance-pay.md#webhook-envelope) and mutate one or more parts of it, so that they get past the
envelope's first checks and reach the deeper ones; the rest are arbitrary JSON or arbitrary bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


class Raw(str):
    """A JSON fragment written as is (a number literal, a broken value)."""


@dataclass(frozen=True)
class Obj:
    """A JSON object as ordered pairs: the same key may come twice."""

    pairs: tuple[tuple[str, Any], ...]


MISSING = object()  # an envelope or data field left out


def dump(node: Any, *, ascii_only: bool = True) -> str:
    """JSON text for a node; ``ascii_only`` escapes non-ASCII (and so surrogates) as ``\\uXXXX``."""
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, str):
        return json.dumps(node, ensure_ascii=ascii_only)
    if isinstance(node, Obj):
        items = (f"{dump(k, ascii_only=ascii_only)}:{dump(v, ascii_only=ascii_only)}"
                 for k, v in node.pairs)  # fmt: skip
        return "{" + ",".join(items) + "}"
    if isinstance(node, list | tuple):
        return "[" + ",".join(dump(v, ascii_only=ascii_only) for v in node) + "]"
    return json.dumps(node)  # None, bool, int


def obj(fields: dict[str, Any]) -> Obj:
    return Obj(tuple((k, v) for k, v in fields.items() if v is not MISSING))


# --- scalars --------------------------------------------------------------------------------------

# Characters a sender may put in any text: controls, NUL, lone surrogates, RTL override, BOM,
# emoji, HTML, quotes and backslashes.
SPECIAL_CHARS = ["\x00", "\x00", "\ud800", "\udbff", "\udc00", "\udfff", "\x01", "\x7f",
                 "\u202e", "\ufeff", "\u2028", "\U0001f600", "é", "<", "\"", "\\", "\n", "\t",
                 "\u0085", "\uffff"]  # fmt: skip

special_texts = st.text(alphabet=st.sampled_from(SPECIAL_CHARS) | st.characters(), max_size=12)
texts = st.one_of(
    st.text(max_size=20),
    special_texts,
    special_texts,
    st.sampled_from(["", " ", "PAY", "PAY_SUCCESS", "<script>alert(1)</script>", "'; DROP--"]),
    st.integers(33, 300).map(lambda n: "x" * n),  # over the 32/64-character limits
    st.integers(1_000, 20_000).map(lambda n: "a" * n),  # long strings
)
# Text as Binance would send it: any Unicode character but NUL and surrogates.
clean_texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)

NUMBER_LITERALS = ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1E-7", "1.0E-7", "-0",
                   "0.000000001", "3.58000000", "1" + "0" * 400, "1" + "0" * 5000, "1.0E+400",
                   "1e-400", "0e0", "00", "01", "1.", ".5", "+1", "0x10", "2.19E17",
                   str(2**53 + 1), str(2**64), str(-(2**63) - 1)]  # fmt: skip

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**53 - 2, max_value=2**70),
    st.sampled_from(NUMBER_LITERALS).map(Raw),
    st.decimals(allow_nan=False, allow_infinity=False, places=10).map(lambda d: Raw(str(d))),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Raw(repr(f))),
)

scalars = st.one_of(st.none(), st.booleans(), numbers, texts)


def _objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Obj]:
    keys = st.one_of(texts, st.sampled_from(["bizType", "data", "bizId", "merchantTradeNo"]))
    return st.lists(st.tuples(keys, children), max_size=4).map(lambda p: Obj(tuple(p)))


def _json_tree(depth: int) -> st.SearchStrategy[Any]:
    """Any JSON value nested at most ``depth`` deep (``st.recursive`` would not bound the depth:
    empty containers are not leaves, so ``[[[[...]]]]`` could nest past the parser's limit and
    drown the rest; deep nesting has its own strategy below)."""
    if depth == 0:
        return scalars
    children = _json_tree(depth - 1)
    return st.one_of(scalars, st.lists(children, max_size=4), _objects(children))


json_values = _json_tree(4)


def deep(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


deeply_nested = st.sampled_from([31, 33, 100, 10_000]).map(deep)
any_value = st.one_of(*[json_values] * 15, deeply_nested)


@dataclass(frozen=True)
class Plan:
    """How one body is spoilt, drawn once per body.

    ``rate``: how often a field is spoilt (0 gives a well-formed envelope: accepted, or a
    duplicate; small rates one bad field that the parser must name; 0.5 a wreck). ``spoil``:
    one text field (by name) that gets a NUL or a lone surrogate while the rest stays valid,
    the bodies that once reached the database (docs/binance-pay.md#webhook-envelope).
    """

    rate: float
    spoil: str | None = None


MUTATION_RATES = [0.0, 0.0, 0.05, 0.15, 0.5]
TEXT_FIELDS = ["bizType", "bizIdStr", "bizStatus", "merchantTradeNo", "currency", "productName",
               "passThroughInfo", "refundRequestId"]  # fmt: skip
UNSTORABLE = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])


def with_unstorable(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid text with a NUL or a lone surrogate put in it somewhere."""
    parts = st.tuples(valid, UNSTORABLE, st.integers(0, 40))
    return parts.map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :])


def maybe(
    draw: st.DrawFn,
    valid: st.SearchStrategy[Any],
    plan: Plan,
    *,
    bad: Any = any_value,
    name: str = "",
) -> Any:
    """``valid`` most of the time; with probability ``plan.rate`` missing or another value (a
    wrong type, a bad number, bad text); the planned spoilt text when ``name`` is the one."""
    if name and name == plan.spoil:
        return draw(with_unstorable(valid))
    if draw(st.floats(0, 1)) >= plan.rate:
        return draw(valid)
    return draw(st.one_of(st.just(MISSING), bad))


def spoilt(valid: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """What a bad text field turns into: itself with a NUL or a lone surrogate, or anything."""
    inserted = with_unstorable(valid)
    return st.one_of(inserted, inserted, texts, any_value)


# --- the envelope and its data ----------------------------------------------------------------

# Binance's are 18-19 digits. From a UUID: spread out, so that few bodies repeat another's id.
ids = st.uuids().map(lambda u: 10**17 + u.int % (9 * 10**18))
hex_ids = st.uuids().map(lambda u: u.hex)
trade_nos = st.one_of(st.uuids().map(lambda u: u.hex), clean_texts)
fees = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=8).map(lambda d: Raw(f"{d:.8f}")),
    st.sampled_from(["0", "-1", "25.170000001", "1E+2", "0.1"]).map(Raw),
    numbers,
    st.sampled_from(["25.17", "NaN", "1,50"]),  # as strings
)
currencies = st.sampled_from(["USDT", "BUSD", "usdt", "BTC", ""])


@st.composite
def pay_data(draw: st.DrawFn, plan: Plan) -> Obj:
    fields = {
        "merchantTradeNo": maybe(
            draw, trade_nos, plan, bad=spoilt(trade_nos), name="merchantTradeNo"
        ),
        "productType": maybe(draw, st.just("02"), plan),
        "productName": maybe(draw, clean_texts, plan, bad=spoilt(clean_texts), name="productName"),
        "transactTime": maybe(draw, st.integers(0, 2**45), plan, bad=numbers),
        "tradeType": maybe(draw, st.sampled_from(["WEB", "APP", "web"]), plan),
        "totalFee": maybe(draw, fees, plan),
        "currency": maybe(draw, currencies, plan, bad=spoilt(currencies), name="currency"),
        "transactionId": maybe(draw, st.just("M_P_219129203579346945"), plan, bad=scalars),
        "passThroughInfo": maybe(
            draw, clean_texts, plan, bad=spoilt(clean_texts), name="passThroughInfo"
        ),
        "commission": maybe(draw, st.just(Raw("0")), plan, bad=numbers),
        "paymentInfo": maybe(draw, st.just(obj({"payerId": 1, "payMethod": "funding"})), plan),
    }
    return obj(fields)


@st.composite
def refund_data(draw: st.DrawFn, plan: Plan) -> Obj:
    info = obj(
        {
            "refundRequestId": maybe(
                draw, hex_ids, plan, bad=spoilt(hex_ids), name="refundRequestId"
            ),
            "prepayId": maybe(draw, ids.map(str), plan, bad=scalars),
            "orderAmount": maybe(draw, fees, plan),
            "refundedAmount": maybe(draw, fees, plan),
            "refundAmount": maybe(draw, fees, plan),
            "remainingAttempts": maybe(draw, st.integers(0, 10), plan, bad=numbers),
            "duplicateRequest": maybe(draw, st.sampled_from(["Y", "N"]), plan),
        }
    )
    # Real payloads nest refundInfo as an object; the docs call it a string
    # (docs/binance-pay.md#refund-data).
    refund_info = draw(st.one_of(st.just(info), st.just(dump(info)), any_value))
    fields = {
        "merchantTradeNo": maybe(
            draw, trade_nos, plan, bad=spoilt(trade_nos), name="merchantTradeNo"
        ),
        "totalFee": maybe(draw, fees, plan),
        "currency": maybe(draw, currencies, plan, bad=spoilt(currencies), name="currency"),
        "refundInfo": maybe(draw, st.just(refund_info), plan),
    }
    return obj(fields)


@st.composite
def data_values(draw: st.DrawFn, biz_type: Any, plan: Plan) -> Any:
    """``data``: mostly a JSON string holding an object (docs/binance-pay.md#webhook-envelope), else
    an object, a string that is not JSON or holds a scalar, or anything."""
    payload = draw(refund_data(plan) if biz_type == "PAY_REFUND" else pay_data(plan))
    ascii_only = draw(st.booleans())
    if draw(st.floats(0, 1)) >= plan.rate:
        return dump(payload, ascii_only=ascii_only)
    return draw(
        st.one_of(
            st.just(dump(payload, ascii_only=ascii_only)),
            st.just(dump(payload, ascii_only=ascii_only)),
            st.just(payload),  # an object, as MERCHANT_QR_CODE sends
            st.just(dump(payload)[:-1]),  # JSON text, truncated
            json_values.map(dump),  # JSON text of anything
            deeply_nested.map(str),
            texts,
            any_value,
        )
    )


@st.composite
def envelopes(draw: st.DrawFn) -> Obj:
    spoil = draw(st.sampled_from([None] * 16 + TEXT_FIELDS))
    plan = Plan(rate=0.0 if spoil else draw(st.sampled_from(MUTATION_RATES)), spoil=spoil)
    biz_types = st.sampled_from(["PAY", "PAY_REFUND", "SHARE_ACCOUNT_ID", "PAYOUT"])
    biz_type = maybe(draw, biz_types, plan, bad=spoilt(biz_types), name="bizType")
    biz_id = draw(ids)
    bad_biz_id_str = st.one_of(ids.map(str), spoilt(st.just(str(biz_id))))
    biz_id_str = maybe(draw, st.just(str(biz_id)), plan, bad=bad_biz_id_str, name="bizIdStr")
    bad_biz_id = st.one_of(st.just(str(biz_id)), st.just(Raw(f"{biz_id}.0")), any_value)
    biz_id_value = maybe(draw, st.just(biz_id), plan, bad=bad_biz_id)
    statuses = ["PAY_SUCCESS", "PAY_CLOSED", "REFUND_SUCCESS", "REFUND_REJECTED", "SUCCESS"]
    fields = {
        "bizType": biz_type,
        "data": maybe(draw, data_values(biz_type, plan), plan),
        "bizIdStr": biz_id_str,
        "bizId": biz_id_value,
        "bizStatus": maybe(
            draw,
            st.sampled_from(statuses),
            plan,
            bad=spoilt(st.sampled_from(statuses)),
            name="bizStatus",
        ),
    }
    envelope = obj(fields)
    # A key twice: refused, never "last one wins".
    if plan.rate and draw(st.integers(0, 9)) == 0 and envelope.pairs:
        key, _value = draw(st.sampled_from(envelope.pairs))
        envelope = Obj((*envelope.pairs, (key, draw(any_value))))
    return envelope


def _transform(body: bytes, how: str, size: int) -> bytes:
    if how == "bom":
        return b"\xef\xbb\xbf" + body
    if how == "utf16":
        return body.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    if how == "truncated":
        return body[: size % max(len(body), 1)]
    if how == "trailing":
        return body + b"\n \r\n"
    if how == "array":
        return b"[" + body + b"]"
    if how == "padded":  # a string long enough to approach or pass the 64 KB cap
        return body[:-1] + b',"pad":"' + b"p" * size + b'"}' if body.endswith(b"}") else body
    return body


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """One webhook body (bytes, any of the above)."""
    kind = draw(st.sampled_from(["envelope"] * 6 + ["json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=200))
    node = draw(envelopes()) if kind == "envelope" else draw(any_value)
    # Raw UTF-8 (surrogates written as invalid CESU-8 bytes) or \u escapes.
    text = dump(node, ascii_only=draw(st.booleans()))
    body = text.encode("utf-8", "surrogatepass")
    how = draw(st.sampled_from(["none"] * 10 + ["bom", "utf16", "truncated", "trailing",
                                                "array", "padded"]))  # fmt: skip
    size = draw(st.sampled_from([10, 1_000, 60_000, 65_536, 70_000]))
    return _transform(body, how, size) or b" "
