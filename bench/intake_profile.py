"""Where one webhook delivery spends paysvc's CPU, beside the floor's, in one process each (not
part of `make bench`).

`python -m bench.intake_profile [N]` signs N distinct PAY_SUCCESS deliveries (RSA-4096), then
calls paysvc's WSGI application (`paysvc.wsgi.application`, the handler gunicorn runs, so the
lean stack of paysvc/lean.py) N times in this process, and the floor's (`bench.intake_floor`) N
times in a child process, each with its connections kept between requests as under gunicorn.
Printed per delivery for each: CPU ms (`time.process_time`: this process only, not PostgreSQL or
Redis), wall ms, SQL statements (`CaptureQueriesContext`, the health check's `SELECT 1`
included) and Redis round trips (packed commands sent); then paysvc's cProfile (process-time
timer) by cumulative and own time. `PROFILE_DUMP=path` keeps the profile.

Environment: DATABASE_URL (else a `paysvc_bench_profile` database on the local server) and
REDIS_URL / CELERY_BROKER_URL (else databases 13 and 14 of the local Redis, flushed first).
"""

from __future__ import annotations

import base64
import cProfile
import hashlib
import io
import json
import os
import pstats
import secrets
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import REPO_ROOT, base_env, bench_database
from bench.webhook_intake import _body

Delivery = tuple[bytes, dict[str, str]]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    database_url, _created = bench_database("paysvc_bench_profile")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    broker_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    env = base_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker_url,
        DJANGO_SECRET_KEY="bench-only-secret-key",  # noqa: S106 - throwaway bench value
        LOG_LEVEL="WARNING",
    )
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")
    import redis

    for url in (redis_url, broker_url):
        redis.Redis.from_url(url).flushdb()
    key, serial, public_pem = _signing_key()
    sys.stderr.write(f"signing {2 * n + 40} deliveries...\n")
    paysvc_deliveries = [_signed(key, serial) for _ in range(n + 20)]
    floor_deliveries = [_signed(key, serial) for _ in range(n + 20)]
    floor = _run_floor(env, public_pem, floor_deliveries)
    paysvc, profiler = _run_paysvc(paysvc_deliveries, serial, public_pem)
    print(json.dumps({"paysvc": paysvc, "floor": floor, "cpu_ratio": _ratio(paysvc, floor)}))
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(40)
        print(out.getvalue())
    if dump := os.environ.get("PROFILE_DUMP"):
        profiler.dump_stats(dump)


def _ratio(paysvc: dict[str, Any], floor: dict[str, Any]) -> float:
    return round(paysvc["cpu_ms"] / floor["cpu_ms"], 2)


def _signing_key() -> tuple[Any, str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    serial = hashlib.md5(public_pem.encode(), usedforsecurity=False).hexdigest().upper()
    return key, serial, public_pem


def _signed(key: Any, serial: str) -> Delivery:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body = _body(uuid.uuid4().hex, str(secrets.randbelow(9 * 10**17) + 10**17)).encode()
    ts = str(int(time.time() * 1000))
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    signature = key.sign(
        f"{ts}\n{nonce}\n".encode() + body + b"\n", padding.PKCS1v15(), hashes.SHA256()
    )
    headers = {
        "HTTP_BINANCEPAY_TIMESTAMP": ts,
        "HTTP_BINANCEPAY_NONCE": nonce,
        "HTTP_BINANCEPAY_CERTIFICATE_SN": serial,
        "HTTP_BINANCEPAY_SIGNATURE": base64.b64encode(signature).decode(),
    }
    return body, headers


def measure(
    app: Callable[..., Any], deliveries: list[Delivery], counters: Callable[[], tuple[int, int]]
) -> dict[str, Any]:
    """Call ``app`` once per delivery (the first 20 warm up); CPU and wall ms per delivery, and
    SQL statements / Redis round trips of one delivery (``counters()`` before and after)."""

    def one(delivery: Delivery) -> None:
        body, headers = delivery
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/webhooks/binance-pay/",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1",
            **headers,
        }
        status: list[str] = []
        answer = b"".join(app(environ, lambda s, h, *a: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{status[0]}: {answer[:300]!r}")

    for delivery in deliveries[:19]:
        one(delivery)
    before = counters()
    one(deliveries[19])
    after = counters()
    rest = deliveries[20:]
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    for delivery in rest:
        one(delivery)
    return {
        "deliveries": len(rest),
        "cpu_ms": round((time.process_time() - started_cpu) * 1000 / len(rest), 3),
        "wall_ms": round((time.perf_counter() - started_wall) * 1000 / len(rest), 3),
        "sql_statements": after[0] - before[0],
        "redis_round_trips": after[1] - before[1],
    }


def _redis_counter() -> Callable[[], int]:
    from redis.connection import Connection

    sent = [0]
    original = Connection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> Any:
        sent[0] += 1
        return original(self, command, check_health)

    Connection.send_packed_command = counting  # type: ignore[method-assign]
    return lambda: sent[0]


def _query_counter() -> Callable[[], int]:
    from django.db import connection

    executed = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed[0] += 1
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(count)
    return lambda: executed[0]


def _run_paysvc(
    deliveries: list[Delivery], serial: str, public_pem: str
) -> tuple[dict[str, Any], cProfile.Profile]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    from paysvc.wsgi import application
    from webhooks.certificates import certificates_store

    certificates_store({serial: public_pem})
    queries, redis_sends = _query_counter(), _redis_counter()
    half = len(deliveries) // 2
    figures = measure(application, deliveries[:half], lambda: (queries(), redis_sends()))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    measure(application, deliveries[half:], lambda: (0, 0))
    profiler.disable()
    return figures, profiler


def _run_floor(env: dict[str, str], public_pem: str, deliveries: list[Delivery]) -> dict[str, Any]:
    """The floor in a child process (it configures Django its own way)."""
    payload = json.dumps([(body.decode(), headers) for body, headers in deliveries])
    child = subprocess.run(
        [sys.executable, "-m", "bench.intake_profile", "--floor"],
        input=payload,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**env, "BENCH_FLOOR_PEM": public_pem},
        check=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def _floor_child() -> None:
    import bench.intake_floor as floor

    floor.setup()
    deliveries = [(body.encode(), headers) for body, headers in json.loads(sys.stdin.read())]
    queries, redis_sends = _query_counter(), _redis_counter()
    figures = measure(floor.application, deliveries, lambda: (queries(), redis_sends()))
    floor.setup()  # leave no rows behind
    print(json.dumps(figures))


if __name__ == "__main__":
    if sys.argv[1:] == ["--floor"]:
        _floor_child()
    else:
        main()
