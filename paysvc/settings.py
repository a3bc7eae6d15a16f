"""Django settings for paysvc, read from environment variables (12-factor).

Every variable is listed in `.env.example`. With no variables at all the service runs on embedded
defaults: SQLite under `var/`, kombu's filesystem broker (no server needed, a real worker still runs
the asynchronous path) and a local-memory cache. Setting `DATABASE_URL` and `CELERY_BROKER_URL`
switches to PostgreSQL and Redis. `DJANGO_SECRET_KEY` is required unless `DJANGO_DEBUG` is on.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PAYSVC_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
else:
    # Production: no default, the error names the variable.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "paysvc",
    "clients",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    # A file, not memory, so that worker processes started by live tests see the test database.
    # One per test run (pid), so that concurrent runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-paysvc-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, nonce store, certificate cache) -------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
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
    # redelivered while still running (RELIABILITY.md: visibility timeout > task time).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "paysvc.heartbeat", "schedule": 30.0},
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
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
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

SPECTACULAR_SETTINGS = {
    "TITLE": "paysvc merchant API",
    "DESCRIPTION": "Create and manage Binance Pay orders through paysvc.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Logging -------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
