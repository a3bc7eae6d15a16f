"""Create Order v3 request model (``POST /binancepay/openapi/v3/order``; docs/binance-pay-v3.md).

v3 is v2 (docs/binance-pay.md#create-order) with three changes to the body: a mandatory
``description``, the single ``goods`` object replaced by a ``goodsDetails`` array of the same goods
objects, and two new optional strings, ``qrCodeReferId`` and ``voucherCode``. Everything else --
env, amounts and fiat, shipping, buyer, the URLs, ``orderExpireTime``, ``supportPayCurrency``,
``appId``, ``universalUrlAttach``, ``passThroughInfo``, ``merchant.subMerchantId``, ``orderTags`` --
has the same names and rules, and the response is the same ``OrderResult`` (docs/binance-pay-v3.md
5).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Self

from binance_pay._wire import ListOf
from binance_pay.models import (
    ORDER_HEAD_WIRE,
    ORDER_KINDS,
    ORDER_TAIL_WIRE,
    Buyer,
    CreateOrderRequest,
    Env,
    Goods,
    OrderRules,
    Shipping,
    require_text,
)

__all__ = ["CreateOrderV3Request"]


@dataclass(frozen=True, kw_only=True)
class CreateOrderV3Request(OrderRules):
    """Create Order v3 body; fields as in ``CreateOrderRequest`` except:

    * ``description`` (required): the order description the payer sees at checkout
      (docs/binance-pay-v3.md 3.1);
    * ``goods_details`` (required, at least one ``Goods``) instead of ``goods``; a list given to
      the constructor is stored as a tuple so the model stays immutable and hashable;
    * ``qr_code_refer_id``: the ``referId`` of a ``MERCHANT_QR_CODE`` scan notification, to
      attach the order to that scan (docs/binance-pay-v3.md 3.3);
    * ``voucher_code``: a Binance voucher to apply (docs/binance-pay-v3.md 3.4).

    ``sub_merchant_id`` is required by Binance for channel partners (docs/binance-pay-v3.md 3.2);
    the model cannot know whether the caller is one, so it stays optional here.
    """

    merchant_trade_no: str
    env: Env
    description: str
    goods_details: tuple[Goods, ...]
    order_amount: Decimal | None = None
    currency: str | None = None
    fiat_amount: Decimal | None = None
    fiat_currency: str | None = None
    shipping: Shipping | None = None
    buyer: Buyer | None = None
    sub_merchant_id: str | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    order_expire_time: int | None = None
    support_pay_currency: str | None = None
    app_id: str | None = None
    universal_url_attach: str | None = None
    pass_through_info: str | None = None
    webhook_url: str | None = None
    order_tags_if_profit_sharing: bool | None = None
    qr_code_refer_id: str | None = None
    voucher_code: str | None = None

    _WIRE = (
        *ORDER_HEAD_WIRE,
        ("description", "description"),
        ("goods_details", "goodsDetails"),
        *ORDER_TAIL_WIRE,
        ("qr_code_refer_id", "qrCodeReferId"),
        ("voucher_code", "voucherCode"),
    )
    _KINDS = {**ORDER_KINDS, "goods_details": ListOf(Goods)}

    @classmethod
    def from_v2(
        cls,
        request: CreateOrderRequest,
        *,
        description: str,
        qr_code_refer_id: str | None = None,
        voucher_code: str | None = None,
    ) -> Self:
        """The v3 form of a v2 request (docs/binance-pay-v3.md 7): every v2 field kept as is,
        ``goods`` as the only ``goodsDetails`` item, plus the v3-only fields given here."""
        common = {
            f.name: getattr(request, f.name)
            for f in dataclasses.fields(request)
            if f.name != "goods"
        }
        return cls(
            **common,
            description=description,
            goods_details=(request.goods,),
            qr_code_refer_id=qr_code_refer_id,
            voucher_code=voucher_code,
        )

    def __post_init__(self) -> None:
        self._check_order()
        require_text(self.description, "description")
        details = self.goods_details
        if not isinstance(details, tuple | list):
            raise TypeError("goodsDetails must be a sequence of Goods")
        if not details:
            raise ValueError("goodsDetails: at least one goods item is required")
        for index, item in enumerate(details):
            if not isinstance(item, Goods):
                raise TypeError(f"goodsDetails[{index}] must be a Goods")
        object.__setattr__(self, "goods_details", tuple(details))
        for attr, key in (("qr_code_refer_id", "qrCodeReferId"), ("voucher_code", "voucherCode")):
            if getattr(self, attr) is not None:
                require_text(getattr(self, attr), key)
