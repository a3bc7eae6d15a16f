"""``python -m sandbox <command>``: run the sandbox, or drive a running one over its control API.

Every command except ``serve`` is a thin HTTP call to ``/sandbox/...`` at ``--url`` (default
SANDBOX_PUBLIC_URL, else http://SANDBOX_HOST:SANDBOX_PORT) and prints the JSON answer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import requests

from sandbox.config import ConfigError, SandboxConfig
from sandbox.faults import API_MODES, WEBHOOK_MODES


def _default_url() -> str:
    try:
        return SandboxConfig.from_env().public_url
    except (ConfigError, OSError):
        return "http://127.0.0.1:8090"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local Binance Pay sandbox: serve it, or control a running one.",
    )
    p.add_argument("--url", default=None, help="sandbox base URL (default: SANDBOX_PUBLIC_URL)")
    p.add_argument(
        "--token",
        default=os.environ.get("SANDBOX_CONTROL_TOKEN"),
        help="X-Sandbox-Token for the control API (default: SANDBOX_CONTROL_TOKEN)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the sandbox (gunicorn; settings from SANDBOX_* env)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--db", help="SQLite path (SANDBOX_DB_PATH)")
    s.add_argument("--workers", type=int)

    for name, text in (
        ("pay", "pay an order as the demo payer"),
        ("expire", "expire an order now (PAY_CLOSED webhook)"),
        ("close", "close an order as the merchant would (PAY_CLOSED webhook)"),
        ("order", "show an order"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("merchant_trade_no")
        if name == "pay":
            c.add_argument("--pay-currency", help="coin the payer uses (default: order currency)")
            c.add_argument("--open-user-id", help="pretend to be another payer")
    for name, text in (
        ("refund-ok", "complete a pending refund (REFUND_SUCCESS)"),
        ("refund-reject", "reject a pending refund (REFUND_REJECTED)"),
    ):
        sub.add_parser(name, help=text).add_argument("refund_request_id")
    sub.add_parser("consent", help="consent to a Share Account Id request").add_argument(
        "request_id"
    )
    w = sub.add_parser("webhooks", help="show the webhook delivery log")
    w.add_argument("--merchant-trade-no")
    w.add_argument("--limit", type=int, default=20)
    sub.add_parser("resend", help="resend a notification now").add_argument("id", type=int)

    f = sub.add_parser("fault", help="inject a fault into the next Binance API calls")
    f.add_argument("mode", choices=[*API_MODES, "list", "clear"])
    f.add_argument("--count", type=int, default=1, help="how many calls get it (default 1)")
    f.add_argument("--path", help="only calls whose path ends with this, e.g. /v2/order")
    f.add_argument(
        "--apply",
        action="store_true",
        help="process the call first, then answer with the fault (outcome unknown)",
    )
    f.add_argument("--retry-after", type=float, help="Retry-After seconds for 429")
    f.add_argument("--seconds", type=float, help="duration for timeout/delay")

    wf = sub.add_parser("webhook-fault", help="inject a fault into the next webhook deliveries")
    wf.add_argument("mode", choices=[*WEBHOOK_MODES, "list", "clear"])
    wf.add_argument("--count", type=int, default=1, help="how many notifications get it")
    wf.add_argument("--seconds", type=float, help="delay in seconds")
    wf.add_argument("--biz-type", help="only PAY, PAY_REFUND or SHARE_ACCOUNT_ID")
    wf.add_argument("--attempts", type=int, help="fail: how many attempts are lost (default 1)")
    wf.add_argument(
        "--same-signature",
        action="store_true",
        help="duplicate: resend with the original headers/signature",
    )

    r = sub.add_parser("rotate-cert", help="add a new webhook certificate and sign with it")
    r.add_argument("--bits", type=int, help="RSA key size (default SANDBOX_RSA_KEY_SIZE)")
    r.add_argument("--no-activate", action="store_true", help="add it without signing with it")
    sub.add_parser("certs", help="list webhook certificates")
    sub.add_parser("retire-cert", help="retire a certificate").add_argument("serial")
    rs = sub.add_parser(
        "receiver-secret", help="set the secret(s) the demo receiver /receiver/NAME verifies with"
    )
    rs.add_argument("name", metavar="NAME", help="receiver name: paysvc posts to /receiver/NAME")
    rs.add_argument(
        "secrets",
        nargs="*",
        metavar="SECRET",
        help="one or more (a rotation: new and old); '-' reads them from stdin, one per line",
    )
    rs.add_argument("--clear", action="store_true", help="forget the receiver's secrets")
    re_ = sub.add_parser("receiver-events", help="events the demo receiver got, newest first")
    re_.add_argument("--name", help="only this receiver")
    re_.add_argument("--limit", type=int, default=20)
    sub.add_parser("receiver-clear", help="delete the demo receiver's events").add_argument(
        "--name", help="only this receiver's"
    )
    sub.add_parser("reset", help="wipe orders, refunds, shares, webhooks, faults (keys stay)")
    sub.add_parser("status", help="show whether the sandbox runs, with counts")
    return p


def _request(args: argparse.Namespace, method: str, path: str, body: Any = None) -> int:
    base = (args.url or _default_url()).rstrip("/")
    headers = {"X-Sandbox-Token": args.token} if args.token else {}
    try:
        resp = requests.request(method, base + path, json=body, headers=headers, timeout=60)
    except requests.ConnectionError:
        print(
            f"error: the sandbox is not reachable at {base} "
            "(start it with `python -m sandbox serve`, or pass --url)",
            file=sys.stderr,
        )
        return 2
    except requests.Timeout:
        print(f"error: the sandbox at {base} did not answer in time", file=sys.stderr)
        return 2
    try:
        payload = resp.json()
    except ValueError:
        print(
            f"error: unexpected answer from {base}{path}: HTTP {resp.status_code}", file=sys.stderr
        )
        return 1
    if resp.status_code >= 400:
        print(f"error: {payload.get('error', payload)}", file=sys.stderr)
        return 1
    print(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0


def _receiver(args: argparse.Namespace) -> int:
    """The demo receiver's commands (sandbox/receiver.py). Secrets are sent, never printed."""
    if args.command == "receiver-events":
        query = f"?limit={args.limit}" + (f"&name={args.name}" if args.name else "")
        return _request(args, "GET", "/sandbox/receiver/events" + query)
    if args.command == "receiver-clear":
        query = f"?name={args.name}" if args.name else ""
        return _request(args, "DELETE", "/sandbox/receiver/events" + query)
    path = f"/sandbox/receiver/{args.name}/secrets"
    if args.clear:
        return _request(args, "DELETE", path)
    secrets = [line.strip() for line in sys.stdin] if args.secrets == ["-"] else args.secrets
    secrets = [s for s in secrets if s]
    if not secrets:
        print("error: give a SECRET (or '-' and the secrets on stdin), or --clear", file=sys.stderr)
        return 2
    return _request(args, "PUT", path, {"secrets": secrets})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cmd = args.command
    if cmd == "serve":
        from sandbox.server import serve

        try:
            cfg = SandboxConfig.from_env()
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        changes = {
            k: v
            for k, v in (
                ("host", args.host),
                ("port", args.port),
                ("db_path", args.db),
                ("workers", args.workers),
            )
            if v
        }
        if changes:
            if ("host" in changes or "port" in changes) and not os.environ.get(
                "SANDBOX_PUBLIC_URL"
            ):
                changes["public_url"] = ""
            cfg = cfg.with_(**changes)
            if not os.environ.get("SANDBOX_PUBLIC_URL"):
                cfg = cfg.with_(public_url=f"http://{cfg.host}:{cfg.port}")
        serve(cfg)
        return 0
    if cmd in ("pay", "expire", "close"):
        body = None
        if cmd == "pay":
            body = {
                k: v
                for k, v in (("payCurrency", args.pay_currency), ("openUserId", args.open_user_id))
                if v
            }
        return _request(args, "POST", f"/sandbox/orders/{args.merchant_trade_no}/{cmd}", body)
    if cmd == "order":
        return _request(args, "GET", f"/sandbox/orders/{args.merchant_trade_no}")
    if cmd in ("refund-ok", "refund-reject"):
        action = "succeed" if cmd == "refund-ok" else "reject"
        return _request(args, "POST", f"/sandbox/refunds/{args.refund_request_id}/{action}")
    if cmd == "consent":
        return _request(args, "POST", f"/sandbox/shares/{args.request_id}/consent")
    if cmd == "webhooks":
        query = f"?limit={args.limit}"
        if args.merchant_trade_no:
            query += f"&merchantTradeNo={args.merchant_trade_no}"
        return _request(args, "GET", "/sandbox/webhooks" + query)
    if cmd == "resend":
        return _request(args, "POST", f"/sandbox/webhooks/{args.id}/resend")
    if cmd in ("fault", "webhook-fault"):
        path = "/sandbox/faults" if cmd == "fault" else "/sandbox/webhook-faults"
        if args.mode == "list":
            return _request(args, "GET", path)
        if args.mode == "clear":
            return _request(args, "DELETE", path)
        spec: dict[str, Any] = {"mode": args.mode, "count": args.count}
        if cmd == "fault":
            spec.update(
                path=args.path, apply=args.apply, retryAfter=args.retry_after, seconds=args.seconds
            )
        else:
            spec.update(
                seconds=args.seconds,
                bizType=args.biz_type,
                attempts=args.attempts,
                sameSignature=args.same_signature,
            )
        return _request(args, "POST", path, {k: v for k, v in spec.items() if v is not None})
    if cmd == "rotate-cert":
        body = {"activate": not args.no_activate}
        if args.bits:
            body["bits"] = args.bits
        return _request(args, "POST", "/sandbox/certificates", body)
    if cmd == "certs":
        return _request(args, "GET", "/sandbox/certificates")
    if cmd == "retire-cert":
        return _request(args, "POST", f"/sandbox/certificates/{args.serial}/retire")
    if cmd.startswith("receiver-"):
        return _receiver(args)
    if cmd == "reset":
        return _request(args, "POST", "/sandbox/reset")
    if cmd == "status":
        return _request(args, "GET", "/sandbox/status")
    raise AssertionError(cmd)  # argparse guarantees a known command
