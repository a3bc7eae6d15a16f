"""Where one `POST /api/v1/orders` spends paysvc's CPU, in one process (not part of `make bench`).

`python -m bench.orders_profile [N]` starts the sandbox, then calls paysvc's WSGI application
(`paysvc.wsgi.application`, the handler gunicorn runs) N times in this process with a real API
key and prints, per order: CPU ms (`time.process_time`, this process only: the sandbox is
another), SQL statements and transactions (Django's `CaptureQueriesContext`, including the
`CONN_HEALTH_CHECKS` `SELECT 1`), Redis round trips (packed commands sent) and Binance calls;
then the top of a cProfile (process-time timer) sorted by cumulative and by own time.

Environment as `bench.orders_create` (DATABASE_URL, REDIS_URL; without them SQLite and local
memory); `PROFILE_IDEMPOTENCY=1` sends an Idempotency-Key with every order, `PROFILE_RATES=1`
keeps the default rate limits on (with a limit high enough not to refuse).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import base_env, free_port, process, wait_for_url
from bench.orders_create import BODY, SANDBOX_KEY, SANDBOX_SECRET


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    tmp = Path(tempfile.mkdtemp())
    sandbox_port = free_port()
    env = base_env(
        DJANGO_SECRET_KEY="bench-only-secret-key",  # noqa: S106 - throwaway bench value
        BINANCE_PAY_BASE_URL=f"http://127.0.0.1:{sandbox_port}",
        BINANCE_PAY_API_KEY=SANDBOX_KEY,
        BINANCE_PAY_SECRET_KEY=SANDBOX_SECRET,
        PAYSVC_ALLOW_PRIVATE_URLS="1",
        LOG_LEVEL="WARNING",
        SANDBOX_PORT=str(sandbox_port),
        SANDBOX_DB_PATH=str(tmp / "sandbox.sqlite3"),
        SANDBOX_API_KEY=SANDBOX_KEY,
        SANDBOX_SECRET_KEY=SANDBOX_SECRET,
        SANDBOX_RSA_KEY_SIZE="2048",
    )
    if os.environ.get("PROFILE_RATES"):
        env.update(PAYSVC_API_RATE="1000000/min", PAYSVC_ORDER_CREATE_RATE="1000000/min")
    else:
        env.update(PAYSVC_API_RATE="", PAYSVC_ORDER_CREATE_RATE="")
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysvc.settings")
    with process([sys.executable, "-m", "sandbox", "serve"], env, tmp / "sandbox.log"):
        wait_for_url(f"http://127.0.0.1:{sandbox_port}/sandbox/health")
        run(n)


def run(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from redis.connection import Connection

    from clients.services import api_key_create, application_create
    from paysvc.wsgi import application as wsgi

    call_command("migrate", "--noinput", verbosity=0)
    app = application_create(name=f"profile-{uuid.uuid4().hex[:8]}")
    _key, raw = api_key_create(application=app, name="profile", scopes=None)
    connection.close()  # as after a request: the next one health-checks it

    redis_sends = [0]
    original_send = Connection.send_packed_command

    def counting_send(self, command, check_health=True):  # type: ignore[no-untyped-def]
        redis_sends[0] += 1
        return original_send(self, command, check_health)

    Connection.send_packed_command = counting_send  # type: ignore[method-assign]
    idempotent = bool(os.environ.get("PROFILE_IDEMPOTENCY"))

    def one() -> int:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/orders",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(BODY),
            "wsgi.errors": sys.stderr,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(BODY)),
            "HTTP_AUTHORIZATION": f"Bearer {raw}",
            "HTTP_HOST": "127.0.0.1",
        }
        if idempotent:
            environ["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex
        status: list[str] = []
        body = b"".join(wsgi(environ, lambda s, h, *a: status.append(s)))
        if not status[0].startswith("201"):
            raise SystemExit(f"{status[0]}: {body[:500]!r}")
        return len(body)

    for _ in range(20):  # warm up: imports, first connections, caches
        one()
    # Counts for one order (the connection is kept between requests, as under gunicorn).
    with CaptureQueriesContext(connection) as queries:
        before = redis_sends[0]
        one()
        redis_per_order = redis_sends[0] - before
    statements = [q["sql"] for q in queries.captured_queries]
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        one()
    cpu_ms = (time.process_time() - started_cpu) * 1000 / n
    wall_ms = (time.perf_counter() - started_wall) * 1000 / n
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(n):
        one()
    profiler.disable()
    print(
        json.dumps(
            {
                "orders": n,
                "cpu_ms_per_order": round(cpu_ms, 3),
                "wall_ms_per_order": round(wall_ms, 3),
                "sql_statements": len(statements),
                "transactions": sum(s.startswith(("BEGIN", "SAVEPOINT")) for s in statements),
                "redis_round_trips": redis_per_order,
                "database": connection.vendor,
                "statements": [s[:160] for s in statements],
            },
            indent=2,
        )
    )
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(45)
        print(out.getvalue())
    if dump := os.environ.get("PROFILE_DUMP"):
        profiler.dump_stats(dump)


if __name__ == "__main__":
    main()
