"""Request schemas of the Binance endpoints (docs/binance-pay.md#create-order,
docs/binance-pay.md#query-order, docs/binance-pay.md#close-order, docs/binance-pay.md#refund-order,
docs/binance-pay.md#query-refund, docs/binance-pay.md#query-certificates,
docs/binance-pay.md#share-account-id).

Each ``parse_*`` takes the decoded JSON object and returns a small dataclass of normalised values,
or raises ``ApiError`` whose message names the field by dotted path ("goods.goodsName: ...").
Unknown fields are ignored. Code choice per failure (docs/binance-pay.md#result-codes):

* missing / null / empty / wrong JSON type / not a decimal  -> 400100
* too long, too many decimals, bad format                     -> 400101
* value out of range / not in the enum                        -> 400102
* illegal characters (goodsName, also in v3 goodsDetails[i])   -> 400103
* merchantTradeNo with bad characters or length               -> 400201 (sandbox choice; 4.8)
* share requestId with bad characters or length               -> 406301 (sandbox choice)

* unknown v3 voucherCode                                        -> 400102 (sandbox choice)

Modules: ``fields`` (the readers), ``create_order`` (Create Order v2 and v3), ``endpoints``
(the rest).
"""

from __future__ import annotations

from sandbox.validation.create_order import (
    NewOrder,
    fiat_to_usdt,
    parse_create_order,
    parse_create_order_v3,
)
from sandbox.validation.endpoints import (
    OrderRef,
    RefundRequest,
    ShareRequest,
    parse_order_ref,
    parse_refund,
    parse_refund_query,
    parse_share,
)
from sandbox.validation.fields import ExpNumber, decimal_value, parse_json_number

__all__ = [
    "ExpNumber",
    "NewOrder",
    "OrderRef",
    "RefundRequest",
    "ShareRequest",
    "decimal_value",
    "fiat_to_usdt",
    "parse_create_order",
    "parse_create_order_v3",
    "parse_json_number",
    "parse_order_ref",
    "parse_refund",
    "parse_refund_query",
    "parse_share",
]
