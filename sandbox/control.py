"""Control API under ``/sandbox/`` (not a Binance path): JSON in, JSON out.

Test hooks of docs/binance-pay.md#sandbox-choices plus fault injection, the delivery log and
certificate rotation. When SANDBOX_CONTROL_TOKEN is set, every route except ``/sandbox/health``
needs the header ``X-Sandbox-Token``. Errors answer ``{"error": "..."}`` with a 4xx status.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from sandbox import faults, keys, orders, receiver, refunds, shares
from sandbox.context import Context
from sandbox.orders import StateError


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, indent=1),
        status=status,
        content_type="application/json",
    )


def _body(request: Request) -> dict[str, Any]:
    if not request.get_data():
        return {}
    try:
        data = json.loads(request.get_data())
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def _create_call_view(order: sqlite3.Row) -> dict[str, Any]:
    """Which Create Order call made the order, and what only v3 carries (sandbox-only fields)."""
    view: dict[str, Any] = {"apiVersion": order["api_version"]}
    if order["api_version"] == "v3":
        view["description"] = order["description"]
        view["goodsDetails"] = json.loads(order["goods_details"])
        if order["qr_code_refer_id"] is not None:
            view["qrCodeReferId"] = order["qr_code_refer_id"]
    return view


class Control:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def dispatch(self, request: Request, endpoint: str, values: dict[str, Any]) -> Response:
        token = self.ctx.config.control_token
        if token and endpoint != "health":
            sent = request.headers.get("X-Sandbox-Token", "")
            if not hmac.compare_digest(sent.encode(), token.encode()):
                return json_response({"error": "missing or wrong X-Sandbox-Token"}, 401)
        try:
            result = getattr(self, endpoint)(request, **values)
        except ControlError as exc:
            return json_response({"error": exc.message}, exc.status)
        except StateError as exc:
            return json_response({"error": str(exc)}, 409)
        except receiver.ReceiverError as exc:
            return json_response({"error": exc.message}, exc.status)
        except HTTPException:
            raise
        return result if isinstance(result, Response) else json_response(result)

    # -- health / status -------------------------------------------------------------------------
    def health(self, request: Request) -> dict[str, Any]:
        self.ctx.store.conn().execute("SELECT 1").fetchone()
        return {"status": "ok"}

    def status(self, request: Request) -> dict[str, Any]:
        conn = self.ctx.store.conn()
        count = {}
        for table in ("orders", "refunds", "shares", "notifications"):
            count[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names  # nosec B608
        states = dict(
            conn.execute("SELECT state, COUNT(*) FROM notifications GROUP BY state").fetchall()
        )
        signing = self.ctx.ring.signing_key(conn)
        cfg = self.ctx.config
        return {
            "status": "ok",
            "publicUrl": cfg.public_url,
            "merchantId": cfg.merchant_id,
            "dbPath": cfg.db_path,
            "counts": count,
            "webhookStates": states,
            "signingCertSerial": signing.serial,
            "webhookUrl": cfg.webhook_url,
            "retrySchedule": list(cfg.webhook_retry_schedule),
            "refundAuto": cfg.refund_auto,
            "faults": faults.active(conn, "api"),
            "webhookFaults": faults.active(conn, "webhook"),
        }

    # -- faults ----------------------------------------------------------------------------------
    def _faults(self, request: Request, kind: str) -> Any:
        if request.method == "GET":
            return {"faults": faults.active(self.ctx.store.conn(), kind)}
        if request.method == "DELETE":
            with self.ctx.write() as conn:
                return {"cleared": faults.clear(conn, kind)}
        try:
            with self.ctx.write() as conn:
                fault_id = faults.add(conn, kind, _body(request), self.ctx.now())
                return {"id": fault_id, "faults": faults.active(conn, kind)}
        except faults.FaultSpecError as exc:
            raise ControlError(400, str(exc)) from None

    def api_faults(self, request: Request) -> Any:
        return self._faults(request, "api")

    def webhook_faults(self, request: Request) -> Any:
        return self._faults(request, "webhook")

    # -- orders ----------------------------------------------------------------------------------
    def _order(self, conn: sqlite3.Connection, trade_no: str) -> sqlite3.Row:
        order = orders.load(
            conn, self.ctx.config, self.ctx.now(), column="merchant_trade_no", value=trade_no
        )
        if order is None:
            raise ControlError(404, f"no order with merchantTradeNo {trade_no}")
        return order

    def order_get(self, request: Request, trade_no: str) -> dict[str, Any]:
        with self.ctx.write() as conn:
            order = self._order(conn, trade_no)
        return self._order_view(order)

    def _order_view(self, order: sqlite3.Row) -> dict[str, Any]:
        conn = self.ctx.store.conn()
        refund_rows = conn.execute(
            "SELECT * FROM refunds WHERE prepay_id = ? ORDER BY create_time", (order["prepay_id"],)
        ).fetchall()
        public = self.ctx.config.public_url
        return {
            **orders.query_view(order, self.ctx.config),
            "expireTime": order["expire_time"],
            "checkoutUrl": f"{public}/en/checkout/{order['checkout_token']}",
            "webhookUrl": order["webhook_url"],
            "refunds": [refunds.query_view(r) for r in refund_rows],
            **_create_call_view(order),
        }

    def order_action(self, request: Request, trade_no: str, action: str) -> dict[str, Any]:
        body = _body(request)
        now = self.ctx.now()
        with self.ctx.write() as conn:
            order = self._order(conn, trade_no)
            if action == "pay":
                orders.pay(
                    conn,
                    self.ctx.config,
                    order,
                    now,
                    pay_currency=body.get("payCurrency"),
                    open_user_id=body.get("openUserId"),
                )
            elif action == "expire":
                if not orders.expire(conn, self.ctx.config, order, now):
                    raise StateError(f"order is {order['status']}, it cannot expire")
            elif action == "close":
                if order["status"] not in orders.OPEN_STATUSES:
                    raise StateError(f"order is {order['status']}, it cannot be closed")
                orders.close(conn, self.ctx.config, order, now)
            else:
                raise ControlError(404, f"unknown action {action}")
            order = self._order(conn, trade_no)
        return self._order_view(order)

    # -- refunds / shares ------------------------------------------------------------------------
    def refund_get(self, request: Request, request_id: str) -> dict[str, Any]:
        row = refunds.get(self.ctx.store.conn(), request_id)
        if row is None:
            raise ControlError(404, f"no refund with refundRequestId {request_id}")
        return refunds.query_view(row)

    def refund_action(self, request: Request, request_id: str, action: str) -> dict[str, Any]:
        if action not in ("succeed", "reject"):
            raise ControlError(404, f"unknown action {action}")
        with self.ctx.write() as conn:
            row = refunds.get(conn, request_id)
            if row is None:
                raise ControlError(404, f"no refund with refundRequestId {request_id}")
            refunds.complete(
                conn, self.ctx.config, row, success=action == "succeed", now=self.ctx.now()
            )
            row = refunds.get(conn, request_id)
        return refunds.query_view(row)

    def share_action(self, request: Request, request_id: str, action: str) -> dict[str, Any]:
        now = self.ctx.now()
        with self.ctx.write() as conn:
            share = shares.get(conn, column="request_id", value=request_id)
            if share is None:
                raise ControlError(404, f"no share request with requestId {request_id}")
            if action == "consent":
                shares.consent(conn, self.ctx.config, share, now)
            elif action == "decline":
                shares.decline(conn, share, now)
            else:
                raise ControlError(404, f"unknown action {action}")
            share = shares.get(conn, column="request_id", value=request_id)
        return {
            "id": share["id"],
            "requestId": share["request_id"],
            "status": share["status"],
            "userBinanceId": share["user_binance_id"],
        }

    # -- webhooks --------------------------------------------------------------------------------
    def webhooks(self, request: Request) -> dict[str, Any]:
        conn = self.ctx.store.conn()
        trade_no = request.args.get("merchantTradeNo")
        limit = min(int(request.args.get("limit", "100")), 10_000)
        if trade_no:
            rows = conn.execute(
                "SELECT * FROM notifications WHERE merchant_trade_no = ? ORDER BY id DESC LIMIT ?",
                (trade_no, limit),
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM notifications ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        out = []
        for row in rows:
            attempts = conn.execute(
                "SELECT attempt_no, at, duration_ms, http_status, response, outcome, timestamp,"
                " nonce, cert_serial FROM attempts WHERE notification_id = ? ORDER BY id",
                (row["id"],),
            ).fetchall()
            out.append(
                {
                    "id": row["id"],
                    "bizType": row["biz_type"],
                    "bizIdStr": row["biz_id"],
                    "bizStatus": row["biz_status"],
                    "merchantTradeNo": row["merchant_trade_no"],
                    "ref": row["ref"],
                    "url": row["url"],
                    "state": row["state"],
                    "attempts": row["attempts"],
                    "nextAttemptAt": row["next_at"],
                    "createdAt": row["created_at"],
                    "finishedAt": row["finished_at"],
                    "fault": json.loads(row["fault"]) if row["fault"] else None,
                    "body": row["body"],
                    "log": [
                        {
                            "attempt": a["attempt_no"],
                            "at": a["at"],
                            "durationMs": a["duration_ms"],
                            "httpStatus": a["http_status"],
                            "response": a["response"],
                            "outcome": a["outcome"],
                            "timestamp": a["timestamp"],
                            "nonce": a["nonce"],
                            "certSerial": a["cert_serial"],
                        }
                        for a in attempts
                    ],
                }
            )
        return {"webhooks": out}

    def webhook_resend(self, request: Request, notification_id: int) -> dict[str, Any]:
        """Send again now, with a fresh retry budget ("manual resend",
        docs/binance-pay.md#webhook-ack-and-retries)."""
        with self.ctx.write() as conn:
            row = conn.execute(
                "SELECT url FROM notifications WHERE id = ?", (notification_id,)
            ).fetchone()
            if row is None:
                raise ControlError(404, f"no notification {notification_id}")
            if not row["url"]:
                raise ControlError(409, "notification has no webhook URL")
            conn.execute(
                "UPDATE notifications SET state = 'pending', next_at = ?, cycle_start = attempts,"
                " fail_remaining = 0, finished_at = NULL WHERE id = ?",
                (self.ctx.now(), notification_id),
            )
        if self.ctx.dispatcher is not None:
            self.ctx.dispatcher.wake()
        return {"id": notification_id, "state": "pending"}

    # -- certificates ----------------------------------------------------------------------------
    def _cert_list(self, conn: sqlite3.Connection) -> dict[str, Any]:
        return {
            "certificates": [
                {
                    "certSerial": r["serial"],
                    "certPublic": r["cert_public"],
                    "status": r["status"],
                    "signing": bool(r["signing"]),
                }
                for r in keys.list_certs(conn, include_retired=True)
            ]
        }

    def certificates(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return self._cert_list(self.ctx.store.conn())
        body = _body(request)
        bits = body.get("bits", self.ctx.config.rsa_key_size)
        if not isinstance(bits, int) or bits < 1024:
            raise ControlError(400, "bits must be an integer >= 1024")
        key = keys.generate_private_key(bits)  # slow for 4096: done outside the transaction
        with self.ctx.write() as conn:
            serial = self.ctx.ring.add_key(conn, key, now=self.ctx.now())
            if body.get("activate"):
                keys.activate(conn, serial)
            return {"certSerial": serial, **self._cert_list(conn)}

    def certificate_action(self, request: Request, serial: str, action: str) -> dict[str, Any]:
        with self.ctx.write() as conn:
            if action == "activate":
                if not keys.activate(conn, serial):
                    raise ControlError(404, "unknown or retired certificate")
            elif action == "retire":
                problem = keys.retire(conn, serial)
                if problem:
                    raise ControlError(409, problem)
            else:
                raise ControlError(404, f"unknown action {action}")
            return self._cert_list(conn)

    # -- demo merchant receiver (sandbox/receiver.py) --------------------------------------------
    def receiver_secrets(self, request: Request, name: str) -> dict[str, Any]:
        """PUT replaces the secrets of receiver ``name``, DELETE forgets them. Never echoed."""
        with self.ctx.write() as conn:
            if request.method == "DELETE":
                return {"name": name, "cleared": receiver.secrets_clear(conn, name)}
            secrets = receiver.parse_secrets(_body(request))
            return {
                "name": name,
                "secrets": receiver.secrets_set(conn, name, secrets, self.ctx.now()),
            }

    def receiver_events(self, request: Request) -> dict[str, Any]:
        """GET lists stored events newest first (``?name=&limit=``); DELETE clears them."""
        name = request.args.get("name") or None
        if name:
            receiver.check_name(name)
        if request.method == "DELETE":
            with self.ctx.write() as conn:
                return {"cleared": receiver.events_clear(conn, name=name)}
        try:
            limit = min(int(request.args.get("limit", "100")), receiver.KEEP_EVENTS)
        except ValueError:
            raise ControlError(400, "limit must be an integer") from None
        rows = receiver.events(self.ctx.store.conn(), name=name, limit=max(limit, 1))
        return {"events": [receiver.event_view(row) for row in rows]}

    def reset(self, request: Request) -> dict[str, Any]:
        self.ctx.store.reset()
        return {"status": "reset"}
