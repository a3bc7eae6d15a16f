"""docs/reliability.md#46-secret-leakage: no secret of the test run appears in any log the run
wrote.

What is a secret here:
- fixed ones: the Binance API secrets the tests use (tests/conftest.py SANDBOX_SECRET, the
  sandbox's demo secret, settings.BINANCE_PAY_SECRET_KEY), Django's SECRET_KEY, the metrics token;
- every API key and client-application notification secret generated during the run, in this
  process or in any process it started with paysvc.settings_test (gunicorn, Celery, commands);
- every signature value computed or checked during the run: BinancePay-Signature of requests
  signed for Binance and of webhooks verified, Paysvc-Signature v1 values of callbacks;
- whatever a test registers with `register()`.

Generated values are recorded by `install_recorders()`, which paysvc/settings_test.py calls in
every process of the run before any app module is imported: it wraps the generators and signers
in clients.keys, binance_pay and notifications.signing (pure modules, no Django) so that each value
is appended to one file shared by the run (PAYSVC_TEST_SECRETS_FILE, which child processes
inherit). No production code knows about it.

What is a log: the session's Python logging (a file handler on the root logger, attached at
session start), every `*.log` file under the session's pytest base temporary directory (where
tests/live.py `running()`, the fixtures in tests/conftest.py and the fault tests write their child
processes' output) and every file passed to `watch()`. At session end tests/conftest.py scans
them and fails the session with a report naming file, line and which secret leaked (never the
secret itself: the report is a log too).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "PAYSVC_TEST_SECRETS_FILE"
# Shorter values are not secrets worth the name (and fuzzed "signatures" like "a" or "" would
# match everywhere); every real one is 32+ characters.
MIN_SECRET_LENGTH = 16
_PREFIX = 12
_TOKEN = re.compile(r"[A-Za-z0-9_+/=\-]{" + str(_PREFIX) + ",}")

_lock = threading.Lock()
_seen: set[str] = set()
_registered: dict[str, str] = {}
_watched: list[Path] = []


# --- Recording (every process of the run) ------------------------------------------------------


def _record(kind: str, value: object) -> None:
    if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or "\n" in value:
        return
    with _lock:
        if value in _seen:
            return
        _seen.add(value)
    path = os.environ.get(ENV_VAR)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{kind}\t{value}\n")


def _recording_result(kind: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value = func(*args, **kwargs)
        _record(kind, value)
        return value

    wrapper.__leakcheck_original__ = func  # type: ignore[attr-defined]
    return wrapper


def _recording_argument(kind: str, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _record(kind, kwargs.get(name))
        return func(*args, **kwargs)

    wrapper.__leakcheck_original__ = func  # type: ignore[attr-defined]
    return wrapper


def _replace_everywhere(package: str, original: object, wrapper: object) -> None:
    """Rebind `original` to `wrapper` in every loaded module of `package` that holds it."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == package or name.startswith(package + ".")):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, wrapper)


def install_recorders() -> None:
    """Wrap the generators and signers (idempotent). Call before app modules are imported."""
    import binance_pay
    import binance_pay.signing
    import binance_pay.webhook
    import clients.keys
    import notifications.signing

    if hasattr(clients.keys.generate_raw_key, "__leakcheck_original__"):
        return
    targets = [
        ("clients", clients.keys.generate_raw_key, "API key", None),
        ("clients", clients.keys.generate_notification_secret, "notification secret", None),
        ("clients", clients.keys.generate_endpoint_secret, "webhook endpoint secret", None),
        ("binance_pay", binance_pay.signing.sign_payload, "BinancePay-Signature", None),
        ("binance_pay", binance_pay.webhook.verify_signature, "BinancePay-Signature", "signature"),
        ("notifications", notifications.signing.compute_signature, "Paysvc-Signature v1", None),
    ]
    for package, original, kind, argument in targets:
        if argument is None:
            wrapper = _recording_result(kind, original)
        else:
            wrapper = _recording_argument(kind, argument, original)
        _replace_everywhere(package, original, wrapper)


# --- Registration (the pytest process) ---------------------------------------------------------


def register(value: str, kind: str) -> None:
    """A secret a test made up itself (a token in a setting, a planted key)."""
    if len(value) >= MIN_SECRET_LENGTH:
        _registered[value] = kind


def watch(path: Path) -> None:
    """A log file outside the base temporary directory that must be scanned too."""
    _watched.append(Path(path))


def watched() -> list[Path]:
    return list(_watched)


def recorded(path: str | None = None) -> dict[str, str]:
    """Every secret recorded by any process of the run so far: value -> kind."""
    found: dict[str, str] = {}
    source = path or os.environ.get(ENV_VAR)
    if source and os.path.exists(source):
        with open(source, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                kind, _, value = line.rstrip("\n").partition("\t")
                if len(value) >= MIN_SECRET_LENGTH:
                    found[value] = kind
    return found


def registered() -> dict[str, str]:
    return dict(_registered)


# --- Scanning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    path: Path
    line: int
    kind: str
    hint: str  # the secret's first characters, enough to tell which one

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} ({self.hint}...)"


def hint(secret: str) -> str:
    return secret[:6] if not secret.startswith("psk_live_") else secret[:12]


def find_leaks(paths: Iterable[Path], secrets: Mapping[str, str]) -> list[Leak]:
    """Every line of `paths` that contains one of `secrets` (value -> kind)."""
    by_prefix: dict[str, list[str]] = {}
    odd: list[str] = []  # secrets with characters no token holds: checked by plain search
    for secret in secrets:
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        if _TOKEN.fullmatch(secret):
            by_prefix.setdefault(secret[:_PREFIX], []).append(secret)
        else:
            odd.append(secret)
    leaks: list[Leak] = []
    for path in paths:
        for number, line in _lines(path):
            for secret in _secrets_in(line, by_prefix, odd):
                leaks.append(Leak(path, number, secrets[secret], hint(secret)))
    return leaks


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            yield from enumerate(lines, start=1)
    except OSError:
        return


def _secrets_in(line: str, by_prefix: Mapping[str, list[str]], odd: list[str]) -> set[str]:
    found = {secret for secret in odd if secret in line}
    for match in _TOKEN.finditer(line):
        token = match.group()
        for start in range(len(token) - _PREFIX + 1):
            for secret in by_prefix.get(token[start : start + _PREFIX], ()):
                if token.startswith(secret, start):
                    found.add(secret)
    return found


def log_files(base: Path, extra: Iterable[Path] = ()) -> list[Path]:
    files = {p for p in base.rglob("*.log") if p.is_file()}
    files.update(p for p in extra if p.is_file())
    return sorted(files)


def report(leaks: list[Leak], limit: int = 50) -> str:
    lines = [
        f"SECRET LEAK CHECK FAILED (docs/reliability.md#46-secret-leakage): {len(leaks)} line(s) "
        "of the run's logs contain a secret of the run:"
    ]
    lines += [f"  {leak}" for leak in leaks[:limit]]
    if len(leaks) > limit:
        lines.append(f"  ... and {len(leaks) - limit} more")
    return "\n".join(lines)


class SessionLog(logging.FileHandler):
    """The session's Python logging, everything that reaches the root logger's handlers."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=False)
        self.setLevel(logging.NOTSET)
        # The service's own format: a record's fields (extra=) are written and scanned too.
        from paysvc.logs import PlainFormatter

        self.setFormatter(PlainFormatter())
