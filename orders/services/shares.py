"""Account-ID sharing (docs/binance-pay.md#share-account-id): ask a customer to share their Binance
ID.

The result arrives only as a SHARE_ACCOUNT_ID webhook, and only if the user agrees; Binance has
no query endpoint for share requests.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.errors import BinanceRefused, IdempotencyConflict
from orders.gateway import BinanceGateway
from orders.models import AccountShare, AccountShareStatus, EventSource
from orders.services.events import account_share_event_emit
from orders.services.status import ms_to_datetime

logger = logging.getLogger(__name__)


def account_share_create(
    *, application: Any, customer_ref: str, request_id: str | None = None
) -> AccountShare:
    """Store the request, commit, ask Binance. Repeating a requestId returns the same share."""
    request_id = request_id or uuid.uuid4().hex
    existing = AccountShare.objects.filter(request_id=request_id).first()
    if existing is not None:
        if existing.application_id != application.pk or existing.customer_ref != customer_ref:
            raise IdempotencyConflict(f"requestId {request_id} was already used")
        if existing.status != AccountShareStatus.REQUESTED:
            return existing
        share = existing
    else:
        try:
            with transaction.atomic():
                share = AccountShare.objects.create(
                    application=application, customer_ref=customer_ref, request_id=request_id
                )
        except IntegrityError as exc:
            raise IdempotencyConflict(f"requestId {request_id} was already used") from exc
    return _submit(share=share)


def _submit(*, share: AccountShare) -> AccountShare:
    gateway = BinanceGateway(source=EventSource.API)
    try:
        result = gateway.share_account_id(request_id=share.request_id)
    except BinanceRefused as exc:
        AccountShare.objects.filter(pk=share.pk).update(
            status=AccountShareStatus.ERROR,
            failure_code=exc.code,
            failure_message=(exc.binance_message or exc.name)[:512],
        )
        raise
    AccountShare.objects.filter(pk=share.pk, status=AccountShareStatus.REQUESTED).update(
        status=AccountShareStatus.PENDING,
        share_id=result.id,
        qrcode_content=result.qrcode_content,
        qrcode_url=result.qrcode_url,
        expire_time=ms_to_datetime(result.expire_time),
    )
    share.refresh_from_db()
    return share


@transaction.atomic
def account_share_complete(
    *,
    request_id: str,
    user_binance_id: str,
    user_name: str | None = None,
    share_id: str | None = None,
    source: str,
) -> AccountShare | None:
    """The customer shared their Binance ID (SHARE_ACCOUNT_ID webhook,
    docs/binance-pay.md#share-account-data).

    Moves the share to SHARED with the user's Binance ID; idempotent (a share already SHARED is
    returned as is). Binance sends this only on consent, so it wins over a local expiry. Returns
    None when no share has this requestId.
    """
    share = AccountShare.objects.select_for_update().filter(request_id=request_id).first()
    if share is None:
        return None
    if share.status == AccountShareStatus.SHARED:
        return share
    previous = share.status
    share.status = AccountShareStatus.SHARED
    share.user_binance_id = user_binance_id
    share.user_name = (user_name or "")[:128]
    share.shared_at = timezone.now()
    update_fields = ["status", "user_binance_id", "user_name", "shared_at", "updated_at"]
    if share_id and not share.share_id:
        share.share_id = share_id
        update_fields.append("share_id")
    share.save(update_fields=update_fields)
    logger.info(
        "account share shared",
        extra={
            "from": previous,
            "source": source,
            "requestId": share.request_id,
            "shareId": share.share_id,
        },
    )
    account_share_event_emit(share=share)
    return share
