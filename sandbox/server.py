"""``python -m sandbox serve``: the sandbox under gunicorn (gthread workers), programmatically.

The master prepares the database and the signing key (generated once, on first start) and closes
its SQLite connections *before* gunicorn forks; each worker then builds its own app with
``create_app`` (own connections, own dispatcher thread; the lease picks one dispatcher).
"""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from sandbox import keys
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.context import Context
from sandbox.dispatcher import LEASE_KEY
from sandbox.store import Store


def _worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "close"):
        app.close()  # stops the dispatcher and releases its lease at once


class SandboxServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        super().__init__()

    def load_config(self) -> None:
        cfg = self.config
        settings = {
            "bind": f"{cfg.host}:{cfg.port}",
            "workers": cfg.workers,
            "threads": cfg.threads,
            "worker_class": "gthread",
            "timeout": 120,  # the "timeout" fault may hold a request for a while
            "graceful_timeout": 5,
            "keepalive": 5,
            "backlog": 2048,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "binance-pay-sandbox",
            "worker_exit": _worker_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.config)


def prepare(config: SandboxConfig) -> str:
    """Create schema and key in this process, drop a stale dispatcher lease, close the DB."""
    store = Store(config.db_path)
    ctx = Context(config, store, keys.KeyRing())
    store.init_schema()
    conn = store.conn()
    has_key = conn.execute("SELECT 1 FROM certs WHERE signing = 1").fetchone()
    if not has_key and not config.rsa_key_pem:
        print(
            f"sandbox: generating the RSA-{config.rsa_key_size} webhook key (first start only)",
            file=sys.stderr,
        )
    ctx.init()
    with store.write() as wconn:
        # One `serve` per database: a lease left by a previous (killed) run is stale.
        wconn.execute("DELETE FROM meta WHERE key = ?", (LEASE_KEY,))
        serial = ctx.ring.signing_key(wconn).serial
    store.close()
    return serial


def serve(config: SandboxConfig) -> None:
    serial = prepare(config)
    print(
        f"Binance Pay sandbox on {config.public_url} "
        f"(bind {config.host}:{config.port}, db {config.db_path}, "
        f"{config.workers} workers x {config.threads} threads, signing cert {serial})",
        file=sys.stderr,
        flush=True,
    )
    SandboxServer(config).run()
