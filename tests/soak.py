"""Suite size or the full size of docs/reliability.md#summary (`make soak`); where the
figures of a run go.

``PAYSVC_SOAK=1`` runs the fault and state-machine tests that read ``size()`` at the sizes
docs/reliability.md gives as targets (5,000 webhooks through a 60 s broker outage, ...); without
it they keep the scaled sizes of `make test`. ``PAYSVC_FIGURES`` names a JSON Lines file to which
``record()`` appends every figure a test reports (`make soak` sets it under var/soak/).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SOAK = os.environ.get("PAYSVC_SOAK", "") == "1"


def size(scaled: T, full: T) -> T:
    """``full`` under PAYSVC_SOAK=1 (`make soak`), else ``scaled`` (the suite)."""
    return full if SOAK else scaled


def record(name: str, figures: dict[str, Any]) -> None:
    """Print a test's figures (run with ``-s`` to see them) and append them to PAYSVC_FIGURES."""
    line = json.dumps(figures, default=str)
    print(f"\n[faults] {name}: {line}", flush=True)
    target = os.environ.get("PAYSVC_FIGURES")
    if not target:
        return
    entry = {
        "name": name,
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0],
        "size": "full" if SOAK else "scaled",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "figures": figures,
    }
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(entry, default=str) + "\n")
