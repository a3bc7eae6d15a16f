"""The headline of a `make bench` run: each figure beside its floor, its ratio and its target.

Read from the JSON reports the benchmarks of this run wrote (var/bench/<name>.json). On these
shared 2-core machines absolute rates move by 2x between runs; the ratio to a floor measured in
the same run is the figure to compare.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.common import RESULTS_DIR

Row = tuple[str, str, str, str, str]  # figure, paysvc, floor, ratio, target


def _get(data: Any, *path: Any) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
    return f"{value}{unit}"


def _ratio(a: Any, b: Any) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}"


def webhooks(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for config, figures in (data.get("intake_vs_floor") or {}).items():
        rows.append(
            (
                f"intake {config}: accepted/s",
                _fmt(figures.get("paysvc_per_s")),
                _fmt(figures.get("floor_per_s")),
                _fmt(figures.get("ratio")),
                ">= 0.9x floor",
            )
        )
        rows.append(
            (
                f"intake {config}: gunicorn CPU ms/delivery",
                _fmt(figures.get("paysvc_gunicorn_cpu_ms")),
                _fmt(figures.get("floor_gunicorn_cpu_ms")),
                _fmt(figures.get("cpu_ratio")) + " (floor/paysvc, all servers)",
                "",
            )
        )
    steady = _get(data, "steady", "phases", "steady") or {}
    e2e = steady.get("end_to_end_received_to_paid") or {}
    checks = data.get("checks") or {}
    lost = sum(
        (phase or {}).get("answered_200_without_stored_event", 0)
        for phase in (checks.get("per_phase") or {}).values()
    )
    rows.append(
        (
            f"webhooks {_fmt(steady.get('achieved_per_s'))}/s for "
            f"{_fmt(steady.get('seconds'))} s with the worker: receipt to PAID p50 / p99",
            f"{_fmt(e2e.get('p50_ms'))} / {_fmt(e2e.get('p99_ms'))} ms",
            "",
            "",
            "p99 <= 1000 ms at 200/s",
        )
    )
    rows.append(
        (
            "  lost / duplicated (orders with several PAID transitions)",
            f"{lost} / {checks.get('orders_with_several_paid_transitions')}",
            "",
            "",
            "0 / 0",
        )
    )
    return rows


def worker(data: dict[str, Any]) -> list[Row]:
    paysvc, noop, sql = (
        data.get("paysvc", {}),
        data.get("floor_celery_noop", {}),
        data.get("floor_sql", {}),
    )
    return [
        (
            "worker drain: events/s (floor: Celery no-op task)",
            _fmt(paysvc.get("events_per_s")),
            _fmt(noop.get("events_per_s")),
            _fmt(data.get("paysvc_over_celery_noop")),
            ">= 400 events/s",
        ),
        (
            "worker drain: events/s (floor: the SQL alone)",
            _fmt(paysvc.get("events_per_s")),
            _fmt(sql.get("events_per_s")),
            _fmt(data.get("paysvc_over_sql")),
            "",
        ),
        (
            "worker: worker CPU ms/event",
            _fmt(paysvc.get("worker_cpu_ms_per_event")),
            _fmt(noop.get("worker_cpu_ms_per_event")),
            _ratio(paysvc.get("worker_cpu_ms_per_event"), noop.get("worker_cpu_ms_per_event")),
            "",
        ),
    ]


def orders(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    paysvc = data.get("paysvc") or {}
    floor = data.get("floor") if isinstance(data.get("floor"), dict) else {}
    for phase, figures in paysvc.items():
        base = (floor or {}).get(phase) or {}
        added = _get(figures, "paysvc_added_latency", "p99_ms")
        base_added = _get(base, "paysvc_added_latency", "p99_ms")
        rows.append(
            (
                f"orders {phase}: orders/s",
                _fmt(figures.get("orders_per_s")),
                _fmt(base.get("orders_per_s")),
                _ratio(figures.get("orders_per_s"), base.get("orders_per_s")),
                "",
            )
        )
        rows.append(
            (
                f"orders {phase}: added latency p99 (ms)",
                _fmt(added),
                _fmt(base_added),
                _ratio(added, base_added),
                "<= 20 ms at 25/s paced" if phase.startswith("paced") else "",
            )
        )
        rows.append(
            (
                f"orders {phase}: gunicorn CPU ms/order",
                _fmt(figures.get("gunicorn_cpu_ms_per_order")),
                _fmt(base.get("gunicorn_cpu_ms_per_order")),
                _ratio(
                    figures.get("gunicorn_cpu_ms_per_order"), base.get("gunicorn_cpu_ms_per_order")
                ),
                "half of before (~14 ms)" if phase == "saturated" else "",
            )
        )
    return rows


def web3(data: dict[str, Any]) -> list[Row]:
    summary = data.get("summary") or {}
    p, f = summary.get("paysvc") or {}, summary.get("floor") or {}
    ratio = summary.get("ratio_paysvc_over_floor") or {}
    projected = p.get("projected_answers_per_s") or {}
    return [
        (
            "web3 completion: answers/s saturated",
            _fmt(p.get("qps")),
            _fmt(f.get("qps")),
            _fmt(ratio.get("qps")),
            ">= 1500/s (or projected: "
            + ", ".join(f"{c} cores {v}" for c, v in projected.items())
            + ")",
        ),
        (
            "web3 completion: p99 (ms)",
            _fmt(p.get("p99_ms")),
            _fmt(f.get("p99_ms")),
            _fmt(ratio.get("p99_ms")),
            "<= 50 ms",
        ),
        (
            "web3 completion: server CPU ms/answer",
            _fmt(p.get("cpu_ms_per_answer")),
            _fmt(f.get("cpu_ms_per_answer")),
            _fmt(ratio.get("cpu_ms_per_answer")),
            "",
        ),
    ]


EXTRACTORS: dict[str, tuple[str, Callable[[dict[str, Any]], list[Row]]]] = {
    "webhooks": ("webhook_intake", webhooks),
    "worker": ("worker_drain", worker),
    "orders": ("orders_create", orders),
    "web3": ("web3_completion", web3),
}


def print_summary(names: list[str]) -> None:
    """One table for the benchmarks in `names` that have a floor (others print their own)."""
    rows: list[Row] = []
    for name in names:
        if name not in EXTRACTORS:
            continue
        report, extract = EXTRACTORS[name]
        path = RESULTS_DIR / f"{report}.json"
        if path.exists():
            rows += extract(json.loads(path.read_text()))
    if not rows:
        return
    header: Row = ("figure", "paysvc", "floor", "paysvc/floor", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    print("\n== summary: each figure beside its floor, measured in the same run", flush=True)
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
