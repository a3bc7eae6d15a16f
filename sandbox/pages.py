"""Hosted pages a payer sees: checkout, QR images and redirects, share-consent, and the demo index.

Checkout (at ``checkoutUrl``): opening it moves INITIAL -> PENDING. "Pay" and "Cancel" are POST
forms carrying a per-order token (HMAC of the checkout token with a per-database secret). Pay ->
PAID + PAY_SUCCESS webhook -> result page with a link to returnUrl. Cancel -> redirect to cancelUrl
when set; the order itself stays payable until it expires (sandbox choice, like Binance where the
payer merely leaves the page).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import NotFound
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox import orders, shares
from sandbox.context import Context
from sandbox.orders import StateError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "sandbox"


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )
    env.filters["ms_time"] = _ms_time
    return env


def _ms_time(ms: int | None) -> str:
    if not ms:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))


@lru_cache(maxsize=512)
def qr_png(content: str) -> bytes:
    """PNG of a QR code for ``content`` (segno, pure Python)."""
    buf = io.BytesIO()
    segno.make(content, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


class Pages:
    def __init__(self, ctx: Context, page_secret: bytes) -> None:
        self.ctx = ctx
        self.env = make_env()
        self._secret = page_secret

    def render(self, name: str, status: int = 200, **values: Any) -> Response:
        values.setdefault("merchant_name", self.ctx.config.merchant_name)
        html = self.env.get_template(name).render(**values)
        return Response(html, status=status, content_type="text/html; charset=utf-8")

    def form_token(self, kind: str, token: str) -> str:
        return hmac.new(self._secret, f"{kind}:{token}".encode(), hashlib.sha256).hexdigest()[:32]

    def _check_form(self, request: Request, kind: str, token: str) -> bool:
        sent = request.form.get("csrf", "")
        return hmac.compare_digest(sent.encode(), self.form_token(kind, token).encode())

    # -- checkout --------------------------------------------------------------------------------
    def checkout(self, request: Request, token: str) -> Response:
        ctx, now = self.ctx, self.ctx.now()
        with ctx.write() as conn:
            order = orders.load(conn, ctx.config, now, column="checkout_token", value=token)
            if order is None:
                raise NotFound()
            orders.mark_opened(conn, order, now)
            order = orders.load(conn, ctx.config, now, column="checkout_token", value=token)
        return self._checkout_page(order, now, result=request.args.get("result"))

    def _checkout_page(
        self,
        order: Any,
        now: int,
        result: str | None = None,
        message: str | None = None,
        status: int = 200,
    ) -> Response:
        # A v3 order lists every goodsDetails item; a v2 order its one goods object.
        details = order["goods_details"]
        items = json.loads(details) if details else [json.loads(order["goods"])]
        qr_url = f"/static/payment/{_day(order['create_time'])}/{order['image_id']}.png"
        return self.render(
            "checkout.html",
            status=status,
            order=order,
            items=items,
            qr_url=qr_url,
            result=result,
            message=message,
            amount=Decimal(order["amount"]),
            seconds_left=max(0, (order["expire_time"] - now) // 1000),
            payable=order["status"] in orders.OPEN_STATUSES,
            csrf=self.form_token("checkout", order["checkout_token"]),
        )

    def checkout_pay(self, request: Request, token: str) -> Response:
        ctx, now = self.ctx, self.ctx.now()
        if not self._check_form(request, "checkout", token):
            return self.render(
                "message.html",
                status=403,
                title="Invalid form",
                text="The form token is not valid. Reload the checkout page.",
            )
        try:
            with ctx.write() as conn:
                order = orders.load(conn, ctx.config, now, column="checkout_token", value=token)
                if order is None:
                    raise NotFound()
                orders.pay(conn, ctx.config, order, now)
        except StateError as exc:
            with ctx.store.write() as conn:
                order = orders.load(conn, ctx.config, now, column="checkout_token", value=token)
            return self._checkout_page(order, now, message=str(exc), status=409)
        return redirect(f"/en/checkout/{token}?result=paid", code=303)

    def checkout_cancel(self, request: Request, token: str) -> Response:
        ctx, now = self.ctx, self.ctx.now()
        if not self._check_form(request, "checkout", token):
            return self.render(
                "message.html",
                status=403,
                title="Invalid form",
                text="The form token is not valid. Reload the checkout page.",
            )
        with ctx.write() as conn:
            order = orders.load(conn, ctx.config, now, column="checkout_token", value=token)
        if order is None:
            raise NotFound()
        if order["cancel_url"]:
            return redirect(order["cancel_url"], code=303)
        return self._checkout_page(order, now, result="cancelled")

    def qr_redirect(self, request: Request, code: str) -> Response:
        row = (
            self.ctx.store.conn()
            .execute(
                "SELECT checkout_token FROM orders WHERE qr_token = ?", (code.removeprefix("dplk"),)
            )
            .fetchone()
        )
        if row is None:
            raise NotFound()
        return redirect(f"/en/checkout/{row[0]}", code=302)

    def universal_redirect(self, request: Request) -> Response:
        token = request.args.get("linkToken", "")
        return self.qr_redirect(request, token)

    def qr_image(self, request: Request, day: str, name: str) -> Response:
        image_id = name.removesuffix(".png")
        row = (
            self.ctx.store.conn()
            .execute("SELECT content FROM images WHERE id = ?", (image_id,))
            .fetchone()
        )
        if row is None or not name.endswith(".png"):
            raise NotFound()
        resp = Response(qr_png(row[0]), content_type="image/png")
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    # -- share consent ----------------------------------------------------------------------------
    def share(self, request: Request, token: str, message: str | None = None) -> Response:
        conn = self.ctx.store.conn()
        share = shares.get(conn, column="token", value=token)
        if share is None:
            raise NotFound()
        now = self.ctx.now()
        return self.render(
            "consent.html",
            share=share,
            status_now=shares.status_of(share, now),
            csrf=self.form_token("share", token),
            message=message,
            qr_url=f"/static/payment/{_day(share['create_time'])}/{share['image_id']}.png",
        )

    def share_action(self, request: Request, token: str, action: str) -> Response:
        ctx, now = self.ctx, self.ctx.now()
        if not self._check_form(request, "share", token):
            return self.render(
                "message.html",
                status=403,
                title="Invalid form",
                text="The form token is not valid. Reload the page.",
            )
        try:
            with ctx.write() as conn:
                share = shares.get(conn, column="token", value=token)
                if share is None:
                    raise NotFound()
                if action == "share":
                    shares.consent(conn, ctx.config, share, now)
                else:
                    shares.decline(conn, share, now)
        except StateError as exc:
            return self.share(request, token, message=str(exc))
        return redirect(f"/share/{token}", code=303)

    # -- index ------------------------------------------------------------------------------------
    def index(self, request: Request) -> Response:
        conn = self.ctx.store.conn()
        recent = conn.execute(
            "SELECT merchant_trade_no, prepay_id, status, amount, currency, checkout_token,"
            " create_time, expire_time FROM orders ORDER BY create_time DESC LIMIT 50"
        ).fetchall()
        deliveries = conn.execute(
            "SELECT n.id, n.biz_type, n.biz_status, n.biz_id, n.merchant_trade_no, n.state,"
            " n.attempts, n.url, n.created_at, (SELECT a.http_status FROM attempts a"
            " WHERE a.notification_id = n.id ORDER BY a.id DESC LIMIT 1) AS last_status"
            " FROM notifications n ORDER BY n.id DESC LIMIT 50"
        ).fetchall()
        return self.render(
            "index.html", orders=recent, deliveries=deliveries, config=self.ctx.config
        )


def _day(ms: int) -> str:
    return time.strftime("%Y%m%d", time.gmtime(ms / 1000))
