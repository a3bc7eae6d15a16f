"""Django settings for paysvc, read from environment variables (12-factor).

Every variable is listed in `.env.example`. With no variables at all the service runs on embedded
defaults: SQLite under `var/`, kombu's filesystem broker (no server needed, a real worker still runs
the asynchronous path) and a local-memory cache. Setting `DATABASE_URL` and `CELERY_BROKER_URL`
switches to PostgreSQL and Redis. `DJANGO_SECRET_KEY` is required unless `DJANGO_DEBUG` is on.
"""

import datetime as dt
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PAYSVC_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# prometheus_client reads this when it is first imported: every process of one deployment
# writes its metric values under it and /metrics merges them (paysvc/metrics.py).
PROMETHEUS_MULTIPROC_DIR = Path(
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
)
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
else:
    # Production: no default, the error names the variable.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin with paysvc's own site (dashboard, login hardening): backoffice/README.md.
    "backoffice.apps.PaysvcAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "paysvc",
    "clients",
    "orders",
    "webhooks",
    "notifications",
    "campaigns",
    "django_otp",
    "backoffice.apps.TwoFactorDevicesConfig",  # django_otp.plugins.otp_totp, readable name
    "axes",
    "backoffice",
]

MIDDLEWARE = [
    # First: every log line of the request, and the tasks it publishes, carry its id.
    "paysvc.logs.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "paysvc.urls"
WSGI_APPLICATION = "paysvc.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'paysvc.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20}
    )
    # SQLite: take the write lock when a transaction begins, so concurrent writers (web and
    # worker) wait for each other (busy timeout) instead of failing with "database is locked"
    # when a transaction that has read tries to write (WAL snapshot upgrade).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A file, not memory, so that worker processes started by live tests see the test database.
    # One per test run (pid), so that concurrent runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-paysvc-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Short: the Web3 endpoint answers within 3 s, and a webhook must fail fast (5xx) when the
    # database is away so that Binance retries.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, nonce store, certificate cache) -------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "paysvc.cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            # Short: a hung Redis must not stall a webhook (nonce store) for long.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    # kombu does not create these folders, and publishing into a missing one fails.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than any task runtime or countdown we use, so that acks_late tasks are not
    # redelivered while still running (docs/reliability.md#celery-settings: visibility timeout >
    # task time).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection before and after every task unless this
# is set; reconnecting per task cost more than most tasks. With it, a worker keeps its
# connection (paysvc/celery.py checks it at each task start, as Django does per request, so a
# dead or obsolete one is replaced), and drops it every 2 x this many tasks anyway.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# A processing task applies its own PAY_SUCCESS together with up to this many - 1 others waiting
# (webhooks/services/batch.py); 1 processes every event alone.
PAYSVC_WEBHOOK_BATCH_SIZE = env.int("PAYSVC_WEBHOOK_BATCH_SIZE", default=50)
# Workers log through the LOGGING below (structured, with the correlation id), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic work. `expires` drops a run that waited longer than its period (no pile-up).
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "paysvc.heartbeat", "schedule": 30.0},
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 30.0, "options": {"expires": 30.0}},
    "orders-reconcile-due": {
        "task": "orders.reconcile_due",
        "schedule": 15.0,
        "options": {"expires": 15.0},
    },
    "notifications-dispatch-due": {
        "task": "notifications.dispatch_due",
        "schedule": 15.0,
        "options": {"expires": 15.0},
    },
    "notifications-prune-events": {
        "task": "notifications.prune_events",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "orders-prune-idempotency-keys": {
        "task": "orders.prune_idempotency_keys",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}

# --- Binance Pay --------------------------------------------------------------------------------
BINANCE_PAY_BASE_URL = env.str("BINANCE_PAY_BASE_URL", default="https://bpay.binanceapi.com")
BINANCE_PAY_API_KEY = env.str("BINANCE_PAY_API_KEY", default="")
BINANCE_PAY_SECRET_KEY = env.str("BINANCE_PAY_SECRET_KEY", default="")
BINANCE_PAY_WEBHOOK_URL = env.str("BINANCE_PAY_WEBHOOK_URL", default="")
BINANCE_PAY_CONNECT_TIMEOUT = env.float("BINANCE_PAY_CONNECT_TIMEOUT", default=3.05)
BINANCE_PAY_READ_TIMEOUT = env.float("BINANCE_PAY_READ_TIMEOUT", default=10.0)
# Binance documents no tolerance and does not say whether a retried webhook is re-signed; a retry
# may carry its first timestamp. Its 6 retries are not timed in the docs either, so the default
# accepts a day-old signature: replay protection comes from the nonce store and the
# (bizType, bizIdStr, bizStatus) unique constraint, not from a tight window.
BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS = env.int(
    "BINANCE_PAY_WEBHOOK_TOLERANCE_SECONDS", default=86400
)

# Largest webhook body accepted (413 above it).
BINANCE_PAY_WEBHOOK_MAX_BYTES = env.int("BINANCE_PAY_WEBHOOK_MAX_BYTES", default=65536)
# How long the certificates fetched from Binance are trusted, and the least time between two
# refetches triggered by an unknown BinancePay-Certificate-SN (no refetch per request).
BINANCE_PAY_CERT_CACHE_SECONDS = env.int("BINANCE_PAY_CERT_CACHE_SECONDS", default=3600)
BINANCE_PAY_CERT_REFETCH_SECONDS = env.int("BINANCE_PAY_CERT_REFETCH_SECONDS", default=60)
# An order Binance still reports open this long after its expiry ends EXPIRED locally.
PAYSVC_RECONCILE_EXPIRY_GRACE_SECONDS = env.int(
    "PAYSVC_RECONCILE_EXPIRY_GRACE_SECONDS", default=600
)

# --- Merchant notifications (notifications/README.md) --------------------------------------------
PAYSVC_CALLBACK_RETRY_HOURS = env.float("PAYSVC_CALLBACK_RETRY_HOURS", default=25.0)
PAYSVC_CALLBACK_CONNECT_TIMEOUT = env.float("PAYSVC_CALLBACK_CONNECT_TIMEOUT", default=3.0)
PAYSVC_CALLBACK_READ_TIMEOUT = env.float("PAYSVC_CALLBACK_READ_TIMEOUT", default=5.0)
# Events (GET /api/v1/events) older than this are deleted by beat, with their delivery log;
# an event with a delivery still being attempted is kept until that ends.
PAYSVC_EVENT_RETENTION_DAYS = env.int("PAYSVC_EVENT_RETENTION_DAYS", default=30)

# --- Web3 task verification (campaigns/README.md) ------------------------------------------------
PAYSVC_WEB3_PREFIX = env.str("PAYSVC_WEB3_PREFIX", default="/web3")
PAYSVC_WEB3_RATE_PER_IP = env.str("PAYSVC_WEB3_RATE_PER_IP", default="50/s")
PAYSVC_WEB3_RATE_GLOBAL = env.str("PAYSVC_WEB3_RATE_GLOBAL", default="2000/s")
PAYSVC_WEB3_PROXY_HOPS = env.int("PAYSVC_WEB3_PROXY_HOPS", default=0)
PAYSVC_WEB3_TIMEOUT_SECONDS = env.float("PAYSVC_WEB3_TIMEOUT_SECONDS", default=3.0)
PAYSVC_WEB3_MAX_IN_FLIGHT = env.int("PAYSVC_WEB3_MAX_IN_FLIGHT", default=16)
PAYSVC_WEB3_TASK_CACHE_SECONDS = env.float("PAYSVC_WEB3_TASK_CACHE_SECONDS", default=5.0)
PAYSVC_WEB3_LOG_DIR = env.str("PAYSVC_WEB3_LOG_DIR", default=str(VAR_DIR / "log"))
PAYSVC_WEB3_LOG_RETENTION_DAYS = env.int("PAYSVC_WEB3_LOG_RETENTION_DAYS", default=14)
PAYSVC_WEB3_LOG_MAX_MB_PER_DAY = env.int("PAYSVC_WEB3_LOG_MAX_MB_PER_DAY", default=1024)

# --- Admin / back office (backoffice/README.md) -------------------------------------------------
PAYSVC_ADMIN_PATH = env.str("PAYSVC_ADMIN_PATH", default="admin/")
PAYSVC_ADMIN_REQUIRE_2FA = env.bool("PAYSVC_ADMIN_REQUIRE_2FA", default=False)
PAYSVC_ADMIN_LOCKOUT_FAILURES = env.int("PAYSVC_ADMIN_LOCKOUT_FAILURES", default=5)
PAYSVC_ADMIN_LOCKOUT_MINUTES = env.int("PAYSVC_ADMIN_LOCKOUT_MINUTES", default=15)
PAYSVC_ADMIN_TRUSTED_PROXIES = env.int("PAYSVC_ADMIN_TRUSTED_PROXIES", default=0)
AXES_FAILURE_LIMIT = PAYSVC_ADMIN_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = dt.timedelta(minutes=PAYSVC_ADMIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "backoffice.security.axes_username"
AXES_CLIENT_IP_CALLABLE = "backoffice.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "backoffice/lockout.html"
AXES_RESET_ON_SUCCESS = True
OTP_TOTP_ISSUER = env.str("PAYSVC_ADMIN_OTP_ISSUER", default="paysvc")

# --- Metrics (paysvc/metrics_access.py, paysvc/worker_metrics.py) -------------------------------
# Who may read /metrics and the worker's exporter: the direct peer must be in one of these
# networks (403 otherwise), and when a token is set it must come as `Authorization: Bearer`.
PAYSVC_METRICS_ALLOWED_NETWORKS = env.list(
    "PAYSVC_METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]
)
PAYSVC_METRICS_TOKEN = env.str("PAYSVC_METRICS_TOKEN", default="")
# The Celery worker's own exporter (0: off). Needs a PROMETHEUS_MULTIPROC_DIR of its own.
PAYSVC_WORKER_METRICS_PORT = env.int("PAYSVC_WORKER_METRICS_PORT", default=0)
PAYSVC_WORKER_METRICS_ADDR = env.str("PAYSVC_WORKER_METRICS_ADDR", default="127.0.0.1")

# --- Static files, i18n --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security ------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# Paths (regexes on the path without its leading slash) answered over plain HTTP even when
# SECURE_SSL_REDIRECT is on: the probes and the scrape that orchestrators and Prometheus send to
# gunicorn directly, inside the deployment's network, never through the TLS proxy.
SECURE_REDIRECT_EXEMPT = env.list(
    "DJANGO_SECURE_REDIRECT_EXEMPT", default=[r"^healthz$", r"^readyz$", r"^metrics$"]
)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
# Off by default: both are hard to undo (browsers remember them for SECURE_HSTS_SECONDS, and a
# preloaded domain ships inside browsers). Turn them on once every subdomain is HTTPS-only.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- REST framework ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Numbers parse as Decimal: amounts never pass through float.
    "DEFAULT_PARSER_CLASSES": ["clients.parsers.DecimalJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["clients.authentication.ApiKeyAuthentication"],
    # Deny by default: a view must name the scope of each action (clients.permissions).
    "DEFAULT_PERMISSION_CLASSES": [
        "clients.permissions.HasApiKey",
        "clients.permissions.RequiredScopes",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["clients.throttling.ApiKeyRateThrottle"],
    "EXCEPTION_HANDLER": "paysvc.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Merchant API rate limits per API key ("N/s|min|h|day", e.g. "100/5min"; empty = off).
PAYSVC_API_RATE = env.str("PAYSVC_API_RATE", default="600/min")
PAYSVC_ORDER_CREATE_RATE = env.str("PAYSVC_ORDER_CREATE_RATE", default="120/min")
PAYSVC_REFUND_RATE = env.str("PAYSVC_REFUND_RATE", default="60/min")
# Paths whose Django-level 400/403/404/500 answer in the API's JSON error shape.
PAYSVC_JSON_ERROR_PATH_PREFIXES = ["/api/"]
# URL fields (notifyUrl, returnUrl, cancelUrl) refuse private, loopback and link-local targets
# unless this is on (make run and the tests turn it on: everything runs on 127.0.0.1 there).
PAYSVC_ALLOW_PRIVATE_URLS = env.bool("PAYSVC_ALLOW_PRIVATE_URLS", default=False)
# Idempotency-Key (orders/services/idempotency.py): answers are kept this long (Stripe: 24 h),
# then beat deletes them and the key may be used again.
PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS = env.float("PAYSVC_IDEMPOTENCY_KEY_TTL_HOURS", default=24.0)
# The lease of the request computing a key's answer, renewed every third of it while it runs;
# once it lapses (the process died) a repeat takes over. Keep it well under a client's retry
# horizon and over a database hiccup.
PAYSVC_IDEMPOTENCY_LEASE_SECONDS = env.float("PAYSVC_IDEMPOTENCY_LEASE_SECONDS", default=15.0)
# Retry-After of the 409 answered to a repeat while the first request is still running.
PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS = env.int(
    "PAYSVC_IDEMPOTENCY_RETRY_AFTER_SECONDS", default=2
)

SPECTACULAR_SETTINGS = {
    "TITLE": "paysvc merchant API",
    "DESCRIPTION": """\
Create and manage Binance Pay orders, refunds and account-ID shares through paysvc.

## Authentication

Every call needs an API key, sent as a Bearer token:

```
Authorization: Bearer psk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG
```

Staff create keys in the admin or with `python manage.py create_api_key --name NAME`; a key is
shown once and stored hashed. A key belongs to one client application and sees only the orders,
refunds and shares that application created (others answer 404, like unknown ids). Scopes limit
what a key may do: `orders:read`, `orders:write`, `refunds:write`, `account_shares:read`,
`account_shares:write`. In this page, click **Authorize** and paste the key (without `Bearer`).

## Errors

Every error has one JSON shape:

```json
{"error": {"code": "validation_error",
           "message": "Invalid input in goods.goodsName, shipping.shippingAddress.region.",
           "fields": {"goods.goodsName": ["is required"],
                      "shipping.shippingAddress.region": ["must be an ISO 3166-1 alpha-2 \
country/region code in upper case, e.g. US, DE, HK"]}}}
```

`code` is stable and machine-readable; `message` is for humans. `fields` (validation errors only)
maps dotted input paths (`goods.goodsName`, `shipping.shippingAddress.region`, `orderTags.0`)
to messages.

| status | code | meaning |
|---|---|---|
| 400 | `validation_error`, `parse_error` | bad input; nothing was sent to Binance |
| 401 | `not_authenticated`, `authentication_failed` | no, malformed, unknown or revoked API key |
| 403 | `permission_denied` | the key lacks a scope (`requiredScopes` names it) |
| 404 | `not_found` | unknown id, or created by another client application |
| 409 | `conflict` | id already used, `Idempotency-Key` reused, action not allowed now |
| 413 | `payload_too_large` | body over 1 MiB |
| 429 | `throttled` | rate limited: wait `Retry-After` seconds (also `retryAfter`) |
| 502 | `upstream_error` | Binance answered with an error (`binanceCode`) |
| 503 | `upstream_unavailable` | Binance unreachable or rate limiting; `Retry-After` when known |
| 504 | `upstream_timeout` | Binance did not answer in time |
| 503 | `database_unavailable` | paysvc's database unreachable: resend after `Retry-After` |

502/503/504 bodies say what happened and what paysvc does next: `outcome` is `unknown` when the
request may have taken effect at Binance and `failed` when it certainly did not; `retrying: true`
means paysvc resolves it by itself, so poll the resource (or wait for your `notifyUrl`) instead
of sending a new request.

## Idempotency

Send an `Idempotency-Key` header (e.g. a UUID per checkout attempt) with `POST /api/v1/orders`:
the first answer is stored and replayed, with `Idempotent-Replayed: true`, for every repeat with
the same key and body; the same key with another body is a 409, and while the first request still
runs a repeat is a 409 `request_in_progress` with `Retry-After` (send it again then; answers are
kept 24 h). `merchantTradeNo` is unique too:
Binance never creates two orders with one. Refunds are idempotent by `refundRequestId`, account
shares by `requestId`: repeating a request with the same id is always safe.

## Amounts

Amounts are decimal strings, never JSON numbers: send `"25.17"`, receive `"25.17"`. Binance
allows at most 8 decimal places and a minimum of `0.00000001`; answers drop trailing zeros
(`"1.00"` comes back as `"1"`). Give either `orderAmount`+`currency` (crypto, e.g. `USDT`) or
`fiatAmount`+`fiatCurrency` (e.g. `USD`); for fiat orders Binance picks the crypto amount, returned
as `currency` and `totalFee`. Times are ISO 8601 in UTC; Binance's own epoch-millisecond fields
(`orderExpireTime`, `buyerRegistrationTime`) stay integers.

## Status values

Orders have Binance's query-order statuses: `INITIAL` (created, not paid), `PENDING` (payment in
progress), `PAID`, `CANCELED` (closed), `EXPIRED`, `ERROR` (Binance refused it), `REFUNDING`,
`REFUNDED` (partly), `FULL_REFUNDED`, plus paysvc's `PAID_AFTER_CLOSE` (paid after it was closed
or expired; flagged for staff). Refunds: `REQUESTED`, `REFUND_PENDING`, `REFUND_SUCCESS`,
`REFUND_REJECTED`, `ERROR`. Account shares: `REQUESTED`, `PENDING`, `SHARED`, `EXPIRED`, `ERROR`.
""",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response bodies as separate components (e.g. Order vs OrderGoodsRequest).
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "RefundStatusEnum": "orders.models.RefundStatus",
        "AccountShareStatusEnum": "orders.models.AccountShareStatus",
        "OrderEventKindEnum": "orders.models.EventKind",
        "OrderEventSourceEnum": "orders.models.EventSource",
    },
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False},
}

# --- Logging -------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "plain" (time level logger [correlation id] message key=value ...) or "json" (one object per
# line, for a log pipeline): paysvc/logs.py.
PAYSVC_LOG_FORMAT = env.str("PAYSVC_LOG_FORMAT", default="plain")
if PAYSVC_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"PAYSVC_LOG_FORMAT={PAYSVC_LOG_FORMAT!r}: use plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "paysvc.logs.CorrelationFilter"}},
    "formatters": {
        "plain": {"()": "paysvc.logs.PlainFormatter"},
        "json": {"()": "paysvc.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": PAYSVC_LOG_FORMAT,
            "filters": ["correlation"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
