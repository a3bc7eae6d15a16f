"""The floor of the webhook intake benchmark: the least a Django view can do for a delivery.

A function view under Django's WSGI handler with no middleware, served by the same gunicorn
configuration as paysvc in the same run (bench/webhook_intake.py). Per delivery it does the work
paysvc cannot skip: verify the RSA signature over ``timestamp LF nonce LF body LF`` with the
public key parsed once, read the body's ``bizType``/``bizIdStr``/``bizStatus`` (the unique key),
INSERT the raw body into its own table in one autocommitted round trip, and LPUSH the new id to a
Redis list. Nothing else: no header format checks, no timestamp window, no nonce store, no
certificate cache, no metrics, no logging, no Celery message, no ORM, no database health check.

Configured from the environment: BENCH_FLOOR_PEM (the public key), DATABASE_URL, REDIS_URL.
``gunicorn bench.intake_floor:application``; ``python -m bench.intake_floor setup`` creates the
table.
"""

from __future__ import annotations

import base64
import json
import os
import sys

import django
import environ
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={
        "default": {**environ.Env().db_url("DATABASE_URL"), "CONN_MAX_AGE": 60},
    },
    USE_TZ=True,
)
django.setup()

import redis  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

TABLE = "bench_intake_floor"
QUEUE = "bench:intake-floor"
SUCCESS = b'{"returnCode":"SUCCESS","returnMessage":null}'
_pem = os.environ.get("BENCH_FLOOR_PEM", "")
_key = serialization.load_pem_public_key(_pem.encode()) if _pem else None
_redis = redis.Redis.from_url(os.environ["REDIS_URL"])


def intake(request: HttpRequest) -> HttpResponse:
    body = request.body
    meta = request.META
    payload = (
        (meta["HTTP_BINANCEPAY_TIMESTAMP"] + "\n" + meta["HTTP_BINANCEPAY_NONCE"] + "\n").encode()
        + body
        + b"\n"
    )
    try:
        _key.verify(  # type: ignore[union-attr, call-arg]
            base64.b64decode(meta["HTTP_BINANCEPAY_SIGNATURE"]),
            payload,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return HttpResponse(b'{"returnCode":"FAIL"}', status=401)
    envelope = json.loads(body)
    key = f"{envelope['bizType']}:{envelope['bizIdStr']}:{envelope['bizStatus']}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (body, dedupe_key) VALUES (%s, %s) "  # noqa: S608 - constant
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            [body, key],
        )
        row = cursor.fetchone()
    if row is not None:
        _redis.lpush(QUEUE, row[0])
    return HttpResponse(SUCCESS, content_type="application/json")


urlpatterns = [path("webhooks/binance-pay/", intake), path("healthz", lambda r: HttpResponse())]
application = WSGIHandler()


def setup() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, received_at timestamptz NOT NULL "
            "DEFAULT now(), body bytea NOT NULL, dedupe_key varchar(255) NOT NULL UNIQUE)"
        )
    _redis.delete(QUEUE)


def stored() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608 - constant
        return int(cursor.fetchone()[0])


if __name__ == "__main__":
    if sys.argv[1:] == ["setup"]:
        setup()
    elif sys.argv[1:] == ["count"]:
        print("FLOOR", json.dumps({"stored": stored(), "queued": _redis.llen(QUEUE)}))
