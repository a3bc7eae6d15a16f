"""Sandbox configuration: one frozen dataclass, read from the environment by ``from_env()``.

Every variable is documented in ``sandbox/README.md``. Times are epoch milliseconds; the clock is
injectable (``clock``) so tests can pin "now" (e.g. to the request-signing vector's timestamp).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

# Public demo credentials, shared with paysvc's `make run`. They protect nothing: the sandbox only
# ever listens on loopback by default and moves no real money.
DEMO_API_KEY = "1480d918652290d5253bbf40ff22682f41c234b4f567bf99d72e08c5c26269e3"
DEMO_SECRET_KEY = "Xs797sS8whf3oAFdaxnwErYEr7oXa6UaSoAE2CpgyRkGqzLIbHSHy2Bb1Og8qsHL"  # noqa: S105 - public demo value
DEFAULT_RETRY_SCHEDULE = (15.0, 30.0, 60.0, 300.0, 1800.0, 3600.0)
REFUND_AUTO_MODES = ("success", "reject", "manual")


def now_ms() -> int:
    """Wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class ConfigError(ValueError):
    """A SANDBOX_* variable has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox needs. ``public_url`` defaults to ``http://{host}:{port}``."""

    host: str = "127.0.0.1"
    port: int = 8090
    public_url: str = ""
    db_path: str = "var/sandbox.sqlite3"
    api_key: str = DEMO_API_KEY
    secret_key: str = DEMO_SECRET_KEY
    merchant_id: int = 352520168
    merchant_name: str = "Sandbox Merchant"
    timestamp_window_ms: int = 5000
    webhook_url: str | None = None
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    webhook_retry_resign: bool = True
    webhook_timeout: float = 5.0
    refund_auto: str = "success"
    refund_delay: float = 1.0
    workers: int = 2
    threads: int = 8
    control_token: str | None = None
    # The sandbox merchant acts as a Binance channel partner: v3 orders need merchant.subMerchantId
    # (docs/binance-pay-v3.md 3.2).
    channel_partner: bool = False
    rsa_key_size: int = 4096
    # PEM (PKCS#8 or PKCS#1) of the first signing key; lets tests skip RSA-4096 generation.
    rsa_key_pem: bytes | None = None
    run_dispatcher: bool = True
    poll_interval: float = 0.05
    clock: Callable[[], int] = field(default=now_ms, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if self.refund_auto not in REFUND_AUTO_MODES:
            raise ConfigError(f"SANDBOX_REFUND_AUTO must be one of {', '.join(REFUND_AUTO_MODES)}")

    def with_(self, **changes: object) -> SandboxConfig:
        """A copy with some fields changed (handy in tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxConfig:
        """Build from SANDBOX_* variables; unset or empty variables keep their defaults."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def num(name: str, conv: Callable[[str], object], default: object) -> object:
            raw = get(name)
            if raw is None:
                return default
            try:
                return conv(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a valid number") from None

        strict = _bool("SANDBOX_STRICT", get("SANDBOX_STRICT"), default=False)
        key_pem = None
        key_file = get("SANDBOX_RSA_KEY_FILE")
        if key_file:
            with open(key_file, "rb") as fh:
                key_pem = fh.read()
        return cls(
            host=get("SANDBOX_HOST") or "127.0.0.1",
            port=num("SANDBOX_PORT", int, 8090),  # type: ignore[arg-type]
            public_url=get("SANDBOX_PUBLIC_URL") or "",
            db_path=get("SANDBOX_DB_PATH") or "var/sandbox.sqlite3",
            api_key=get("SANDBOX_API_KEY") or DEMO_API_KEY,
            secret_key=get("SANDBOX_SECRET_KEY") or DEMO_SECRET_KEY,
            merchant_id=num("SANDBOX_MERCHANT_ID", int, 352520168),  # type: ignore[arg-type]
            merchant_name=get("SANDBOX_MERCHANT_NAME") or "Sandbox Merchant",
            timestamp_window_ms=num(  # type: ignore[arg-type]
                "SANDBOX_TIMESTAMP_WINDOW_MS", int, 1000 if strict else 5000
            ),
            webhook_url=get("SANDBOX_WEBHOOK_URL"),
            webhook_retry_schedule=_schedule(get("SANDBOX_WEBHOOK_RETRY_SCHEDULE")),
            webhook_retry_resign=_bool(
                "SANDBOX_WEBHOOK_RETRY_RESIGN", get("SANDBOX_WEBHOOK_RETRY_RESIGN"), default=True
            ),
            webhook_timeout=num("SANDBOX_WEBHOOK_TIMEOUT", float, 5.0),  # type: ignore[arg-type]
            refund_auto=(get("SANDBOX_REFUND_AUTO") or "success").lower(),
            refund_delay=num("SANDBOX_REFUND_DELAY", float, 1.0),  # type: ignore[arg-type]
            workers=num("SANDBOX_WORKERS", int, 2),  # type: ignore[arg-type]
            threads=num("SANDBOX_THREADS", int, 8),  # type: ignore[arg-type]
            control_token=get("SANDBOX_CONTROL_TOKEN"),
            channel_partner=_bool(
                "SANDBOX_CHANNEL_PARTNER", get("SANDBOX_CHANNEL_PARTNER"), default=False
            ),
            rsa_key_size=num("SANDBOX_RSA_KEY_SIZE", int, 4096),  # type: ignore[arg-type]
            rsa_key_pem=key_pem,
        )


def _bool(name: str, raw: str | None, *, default: bool) -> bool:
    if raw is None:
        return default
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (true/false)")


def _schedule(raw: str | None) -> tuple[float, ...]:
    if raw is None:
        return DEFAULT_RETRY_SCHEDULE
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"SANDBOX_WEBHOOK_RETRY_SCHEDULE={raw!r}: comma list of seconds"
        ) from None
    if len(values) > 6 or any(v < 0 for v in values):
        # docs/binance-pay.md#webhook-ack-and-retries: Binance re-sends "up to 6 times".
        raise ConfigError("SANDBOX_WEBHOOK_RETRY_SCHEDULE: at most 6 non-negative values")
    return values
