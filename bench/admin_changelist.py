"""The admin on a big table: 100,000 orders (with refunds, timeline events, webhook events and
account shares) on PostgreSQL, then the order changelist (default, filtered by status, searched by
prepayId and by Binance ID), an order page, the dashboard and a filtered CSV export, timed through
Django's test Client logged in as a superuser. Target: changelist under 300 ms.

Database: DATABASE_URL (used as it is; the rows it adds are deleted at the end), else a fresh
`paysvc_bench_admin` database on postgres://postgres@127.0.0.1:5432. Rows are made by PostgreSQL
itself (INSERT ... SELECT generate_series), in a few seconds. Settings: DJANGO_SETTINGS_MODULE
(default paysvc.settings). Knobs: BENCH_ADMIN_ORDERS (100000), BENCH_ADMIN_RUNS (30).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench.common import bench_database, progress, report, summary_ms

ORDERS = int(os.environ.get("BENCH_ADMIN_ORDERS", "100000"))
RUNS = int(os.environ.get("BENCH_ADMIN_RUNS", "30"))
TARGET_MS = 300.0
APP_NAME = "bench-admin"
BENCH_DB = "paysvc_bench_admin"


def database_url() -> tuple[str, bool]:
    return bench_database(BENCH_DB)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
    os.environ["DJANGO_ALLOWED_HOSTS"] = hosts + ",testserver"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"bench admin needs PostgreSQL; DATABASE_URL is {connection.vendor}")
    call_command("migrate", verbosity=0)


# Status by i % 20: 45% PAID, 5% REFUNDED, 5% FULL_REFUNDED, 20% EXPIRED, 10% CANCELED,
# 10% INITIAL, 5% PENDING. Orders are spread over the last ~30 days, newest first.
STATUS_SQL = """CASE WHEN i % 20 < 9 THEN 'PAID' WHEN i % 20 = 9 THEN 'REFUNDED'
    WHEN i % 20 = 10 THEN 'FULL_REFUNDED' WHEN i % 20 < 15 THEN 'EXPIRED'
    WHEN i % 20 < 17 THEN 'CANCELED' WHEN i % 20 < 19 THEN 'INITIAL' ELSE 'PENDING' END"""
PAID_SQL = "(i % 20 < 11)"

ORDERS_SQL = f"""
INSERT INTO orders_order (
  application_id, merchant_trade_no, customer_ref, status, create_state, api_version,
  description, terminal_type,
  order_amount, currency, fiat_amount, fiat_currency, goods, env, shipping, buyer, extra,
  return_url, cancel_url, notify_url, request_payload, prepay_id, total_fee, checkout_url,
  qrcode_link, qr_content, deeplink, universal_url, expire_time, transaction_id, open_user_id,
  payment_info, commission, failure_code, failure_message, flagged, flag_reason, created_at,
  updated_at, paid_at, last_synced_at, next_reconcile_at, reconcile_attempts)
SELECT %(app)s, md5('bench' || i), 'cust-' || (i % 5000), {STATUS_SQL}, 'created', 'v2', '',
  (ARRAY['WEB','APP','WAP','MINI_PROGRAM','OTHERS'])[1 + i % 5],
  CASE WHEN i % 10 = 1 THEN NULL WHEN i % 10 = 0 THEN 0.0005 ELSE (i % 200) + 0.17 END,
  CASE WHEN i % 10 = 0 THEN 'BTC' ELSE 'USDT' END,
  CASE WHEN i % 10 = 1 THEN (i % 90) + 10 END,
  CASE WHEN i % 10 = 1 THEN 'USD' ELSE '' END,
  jsonb_build_object('goodsType', '02', 'goodsCategory', 'Z000',
                     'referenceGoodsId', 'sku-' || (i % 100), 'goodsName', 'Ice Cream'),
  '{{"terminalType": "WEB"}}'::jsonb, NULL, NULL, '{{}}'::jsonb, '', '', '',
  jsonb_build_object('env', jsonb_build_object('terminalType', 'WEB'), 'merchantTradeNo',
                     md5('bench' || i), 'orderAmount', ((i % 200) + 0.17)::text,
                     'currency', 'USDT', 'description', repeat('x', 300)),
  (100000000000000000 + i)::text,
  CASE WHEN i % 10 = 0 THEN 0.0005 WHEN i % 10 = 1 THEN (i % 90) + 10 ELSE (i % 200) + 0.17 END,
  'https://pay.binance.com/en/checkout/' || md5('c' || i),
  'https://public.bnbstatic.com/static/payment/' || md5('q' || i) || '.png',
  'https://app.binance.com/qr/dplk' || md5('q' || i), 'bnc://app.binance.com/payment/secpay',
  'https://app.binance.com/payment/secpay?linkToken=' || md5('u' || i),
  now() - i * interval '26 seconds' + interval '1 hour',
  CASE WHEN {PAID_SQL} THEN 'M_P_' || (200000000000000000 + i) ELSE '' END,
  CASE WHEN {PAID_SQL} THEN md5('open' || (i % 5000)) ELSE '' END,
  CASE WHEN {PAID_SQL} THEN '{{"payMethod": "funding", "channel": "DEFAULT"}}'::jsonb END,
  CASE WHEN {PAID_SQL} THEN 0 END, '', '',
  i % 500 = 0, CASE WHEN i % 500 = 0 THEN 'amount mismatch' ELSE '' END,
  now() - i * interval '26 seconds', now() - i * interval '26 seconds',
  CASE WHEN {PAID_SQL} THEN now() - i * interval '26 seconds' + interval '90 seconds' END,
  NULL, NULL, 0
FROM generate_series(1, %(n)s) AS i
"""  # noqa: S608 - constant fragments

EVENTS_SQL = """
INSERT INTO orders_orderevent (order_id, created_at, kind, source, actor, from_status,
  to_status, summary, detail)
SELECT o.id, o.created_at, 'note', 'api', 'key:psk_bench', '', '',
  'order stored; creating it at Binance', '{}'::jsonb
FROM orders_order o WHERE o.application_id = %(app)s
UNION ALL
SELECT o.id, o.created_at + interval '1 second', 'binance_call', 'api', 'key:psk_bench', '', '',
  'POST /v2/order -> HTTP 200 (120 ms)',
  jsonb_build_object('path', '/binancepay/openapi/v2/order', 'httpStatus', 200,
    'request', o.request_payload,
    'response', jsonb_build_object('status', 'SUCCESS', 'code', '000000',
      'data', jsonb_build_object('prepayId', o.prepay_id, 'checkoutUrl', o.checkout_url)))
FROM orders_order o WHERE o.application_id = %(app)s
UNION ALL
SELECT o.id, o.paid_at, 'status_change',
  CASE WHEN o.id % 7 = 0 THEN 'reconciliation' ELSE 'webhook' END, '', 'INITIAL', 'PAID',
  'INITIAL -> PAID', '{}'::jsonb
FROM orders_order o WHERE o.application_id = %(app)s AND o.paid_at IS NOT NULL
"""

REFUNDS_SQL = """
INSERT INTO orders_refund (order_id, refund_request_id, refund_amount, refund_reason, status,
  refund_id, refunded_amount, remaining_attempts, failure_code, failure_message, requested_by,
  created_at, updated_at, completed_at, next_reconcile_at, reconcile_attempts)
SELECT o.id, md5('refund' || o.id), o.total_fee / 2, 'bench', 'REFUND_SUCCESS', '',
  o.total_fee / 2, 9, '', '', 'staff:bench', o.paid_at + interval '1 hour',
  o.paid_at + interval '1 hour', o.paid_at + interval '1 hour', NULL, 0
FROM orders_order o
WHERE o.application_id = %(app)s AND o.status IN ('REFUNDED', 'FULL_REFUNDED')
"""

SHARES_SQL = """
INSERT INTO orders_accountshare (application_id, customer_ref, request_id, status, share_id,
  qrcode_content, qrcode_url, expire_time, user_binance_id, user_name, failure_code,
  failure_message, created_at, updated_at, shared_at)
SELECT %(app)s, 'cust-' || n, md5('share' || n), 'SHARED', NULL, '', '', NULL,
  (300000000 + n)::text, 'user' || n, '', '', now(), now(), now()
FROM generate_series(0, 1999) AS n
"""

WEBHOOKS_SQL = """
INSERT INTO webhooks_webhookevent (received_at, body, headers, cert_serial, verification,
  biz_type, biz_id_str, biz_status, merchant_trade_no, dedupe_key, status, attempts, last_error,
  processed_at, next_attempt_at)
SELECT o.paid_at, convert_to('{"bizType":"PAY","bizStatus":"PAY_SUCCESS","data":"'
  || repeat('x', 800) || '"}', 'UTF8'),
  '{"BinancePay-Signature": "redacted-in-bench"}'::jsonb, 'BENCH', 'verified', 'PAY',
  o.prepay_id, 'PAY_SUCCESS', o.merchant_trade_no, 'bench:' || o.prepay_id,
  CASE WHEN o.id % 1000 = 0 THEN 'failed' ELSE 'processed' END, 1, '', o.paid_at, NULL
FROM orders_order o WHERE o.application_id = %(app)s AND o.paid_at IS NOT NULL AND o.id % 3 = 0
"""


def populate(orders: int = ORDERS) -> dict[str, Any]:
    """Fill the database with `orders` orders and their refunds, timeline, shares and webhook
    events, by set-based INSERTs (the models' current NOT NULL columns all set:
    tests/test_bench_seeds.py runs this at a small size), then VACUUM ANALYZE."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from clients.models import ClientApplication
    from clients.services import application_create

    application = ClientApplication.objects.filter(name=APP_NAME).first()
    if application is None:
        application = application_create(name=APP_NAME)
    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-admin").first()
    if user is None:
        user = user_model.objects.create_superuser("bench-admin", None, None)
    started = time.monotonic()
    steps = [
        ("orders", ORDERS_SQL),
        ("events", EVENTS_SQL),
        ("refunds", REFUNDS_SQL),
        ("shares", SHARES_SQL),
        ("webhooks", WEBHOOKS_SQL),
    ]
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for done, (name, sql) in enumerate(steps):
            progress(done, len(steps), started, f"inserting {name:<8}")
            # `%` is SQL's modulo here: doubled for the driver's placeholders.
            sql = sql.replace("%", "%%").replace("%%(", "%(")
            cursor.execute(sql, {"app": application.pk, "n": orders})
            counts[name] = cursor.rowcount
        progress(len(steps), len(steps), started, "analyze         ")
        for table in ("orders_order", "orders_orderevent", "orders_refund",
                      "orders_accountshare", "webhooks_webhookevent"):  # fmt: skip
            # VACUUM too: autovacuum's steady state (visibility map set: index-only scans).
            cursor.execute(f"VACUUM ANALYZE {table}")
    sys.stderr.write("\n")
    return {
        "application": application,
        "user": user,
        "rows": counts,
        "populate_seconds": round(time.monotonic() - started, 1),
    }


def cleanup(application: Any) -> None:
    """Only when running on a DATABASE_URL we do not own: remove what we added."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM webhooks_webhookevent WHERE dedupe_key LIKE 'bench:%%'")
        for table in ("orders_refund", "orders_orderevent"):
            cursor.execute(
                f"DELETE FROM {table} WHERE order_id IN "  # noqa: S608 - fixed table names
                "(SELECT id FROM orders_order WHERE application_id = %s)",
                [application.pk],
            )
        for table in ("orders_order", "orders_accountshare"):
            cursor.execute(f"DELETE FROM {table} WHERE application_id = %s", [application.pk])  # noqa: S608


def timed(client: Any, url: str, runs: int, label: str, before: Any = None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = before or (lambda: None)
    before()
    response = client.get(url)  # warm: templates, caches, plans
    assert response.status_code == 200, (url, response.status_code)
    if response.streaming:
        b"".join(response.streaming_content)
    before()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    query_count = len(queries)  # now: the log is reset by the next request
    times = []
    started = time.monotonic()
    for done in range(runs):
        progress(done, runs, started, f"{label:<26}")
        before()
        t0 = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            size = len(b"".join(response.streaming_content))
        else:
            size = len(response.content)
        times.append(time.perf_counter() - t0)
    progress(runs, runs, started, f"{label:<26}")
    sys.stderr.write("\n")
    return {"url": url, "queries": query_count, "bytes": size, **summary_ms(times)}


def main() -> None:
    url, owned = database_url()
    setup_django(url)
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from orders.models import Order

    data = populate()
    try:
        client = Client()
        client.force_login(data["user"])
        changelist = reverse("admin:orders_order_changelist")
        sample = Order.objects.filter(application=data["application"]).order_by("-pk")[ORDERS // 20]
        scenarios = {
            "changelist_default": changelist,
            "changelist_status_paid": f"{changelist}?status__exact=PAID",
            "changelist_search_prepay_id": f"{changelist}?q={sample.prepay_id}",
            "changelist_search_binance_id": f"{changelist}?q=300000042",
            "changelist_paid_by_polling": f"{changelist}?paid_found_by=polling",
            "order_page": reverse("admin:orders_order_change", args=[sample.pk]),
            "dashboard": reverse("admin:index"),
        }
        results = {name: timed(client, path, RUNS, name) for name, path in scenarios.items()}
        # The dashboard's figures are cached for a minute; this is the cost of computing them.
        results["dashboard_uncached"] = timed(
            client,
            reverse("admin:index"),
            RUNS,
            "dashboard_uncached",
            before=cache.clear,  # the dashboard is recomputed on every run
        )
        export = reverse("admin:orders_order_export_csv")
        for status in ("REFUNDED", "PAID"):
            results[f"csv_export_{status.lower()}"] = timed(
                client, f"{export}?status__exact={status}", 3, f"csv export {status}"
            )
        worst = max(results[name]["p99_ms"] for name in results if name.startswith("changelist_"))
        report(
            "admin_changelist",
            {
                "database": f"PostgreSQL {connection.pg_version // 10000}",
                "orders": ORDERS,
                "rows": data["rows"],
                "populate_seconds": data["populate_seconds"],
                "runs": RUNS,
                "target_ms": TARGET_MS,
                "changelist_worst_p99_ms": worst,
                "target_met": worst < TARGET_MS,
                **results,
            },
        )
    finally:
        if not owned:
            cleanup(data["application"])


if __name__ == "__main__":
    main()
