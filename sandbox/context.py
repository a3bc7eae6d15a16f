"""The objects one sandbox instance shares between its API, pages, control API and dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sandbox import keys, notify
from sandbox.config import SandboxConfig
from sandbox.store import Store

if TYPE_CHECKING:
    import sqlite3

    from sandbox.dispatcher import Dispatcher


class Context:
    """Config + store + key ring (+ the dispatcher to wake when a webhook is enqueued)."""

    def __init__(self, config: SandboxConfig, store: Store, ring: keys.KeyRing) -> None:
        self.config = config
        self.store = store
        self.ring = ring
        self.now = config.clock
        self.dispatcher: Dispatcher | None = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; wakes the local dispatcher if it enqueued a notification."""
        notify.take_enqueued_flag()
        with self.store.write() as conn:
            yield conn
        if notify.take_enqueued_flag() and self.dispatcher is not None:
            self.dispatcher.wake()

    def init(self) -> None:
        """Create the schema and the first signing key (generated once, then reused)."""
        self.store.init_schema()
        with self.store.write() as conn:
            keys.ensure_signing_key(
                conn,
                self.ring,
                bits=self.config.rsa_key_size,
                pem=self.config.rsa_key_pem,
                now=self.now(),
            )
