"""A minimal progress bar for management commands (stderr, no dependency)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

WIDTH = 30


def progress(items: Sequence[T], *, label: str, stream: Any = None) -> Iterator[T]:
    """Yield ``items`` while drawing ``label [#####.....] done/total`` on ``stream``.

    ``stream`` is a text stream or a command's ``self.stderr`` (default: ``sys.stderr``).
    On a terminal the bar is redrawn in place; elsewhere (logs, CI) a line is written at every
    10 % so the output stays short.
    """
    out = stream if stream is not None else sys.stderr
    total = len(items)
    interactive = out.isatty()
    last_decile = -1

    def draw(done: int) -> None:
        nonlocal last_decile
        decile = done * 10 // total if total else 10
        if not interactive and decile == last_decile and done != total:
            return
        last_decile = decile
        filled = done * WIDTH // total if total else WIDTH
        bar = "#" * filled + "." * (WIDTH - filled)
        start = "\r" if interactive else ""
        end = "\n" if (done == total or not interactive) else ""
        text = f"{start}{label} [{bar}] {done}/{total}{end}"
        if hasattr(out, "ending"):  # Django's OutputWrapper would add its own line ending
            out.write(text, ending="")
        else:
            out.write(text)
        out.flush()

    draw(0)
    for done, item in enumerate(items, 1):
        yield item
        draw(done)
