"""The packages depend on each other in one direction only (docs/architecture.md#packages).

Every import statement of every module is read (module level, inside functions and under
TYPE_CHECKING alike: a lazy import is still a dependency). The composition root — the URL
configuration, the `make run` launcher and the management commands that set up a deployment —
is where the apps are put together, so it may import any of them; nothing else may make a cycle.
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from tests.live import REPO_ROOT

PACKAGES = (
    "paysvc", "clients", "orders", "webhooks", "notifications", "campaigns", "backoffice",
    "binance_pay", "sandbox",
)  # fmt: skip
SDK = "paysvc_webhooks"
# Modules that compose the apps: they import them all, by design.
COMPOSITION_ROOT = ("paysvc.urls", "paysvc.devrun", "paysvc.management")
# What each package may import (besides itself and third-party code).
ALLOWED: dict[str, set[str]] = {
    "binance_pay": set(),
    "sandbox": {SDK},
    "backoffice": set(),
    "paysvc": {"binance_pay"},
    "clients": {"paysvc", "backoffice"},
    "notifications": {"paysvc", "backoffice", "clients"},
    "orders": {"paysvc", "backoffice", "clients", "notifications", "binance_pay"},
    "webhooks": {"paysvc", "backoffice", "orders", "binance_pay"},
    "campaigns": {"paysvc", "backoffice", "clients", "orders"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_packages(path: Path) -> set[str]:
    """The project packages (and the SDK) that the module at `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PACKAGES or top == SDK:
                found.add(top)
    return found


@functools.cache
def package_graph() -> dict[str, dict[str, list[str]]]:
    """{package: {imported package: [modules that import it]}}, composition root excluded."""
    graph: dict[str, dict[str, list[str]]] = {p: defaultdict(list) for p in PACKAGES}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            module = module_name(path)
            if module.startswith(COMPOSITION_ROOT):
                continue
            for other in imported_packages(path) - {package}:
                graph[package][other].append(module)
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of packages, as a path that ends where it starts, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in graph.get(node, {}):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in graph:
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_between_packages():
    graph = package_graph()

    cycle = find_cycle(graph)

    detail = ""
    if cycle:
        detail = "; ".join(
            f"{a} -> {b} in {', '.join(graph[a][b][:3])}" for a, b in itertools.pairwise(cycle)
        )
    assert cycle is None, f"import cycle {' -> '.join(cycle or [])}: {detail}"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_its_layer_allows(package):
    imports = package_graph()[package]

    unexpected = {
        other: modules for other, modules in imports.items() if other not in ALLOWED[package]
    }

    assert not unexpected, f"{package} must not import {unexpected}"


def test_the_checker_finds_a_cycle():
    graph = {"a": {"b": ["a.x"]}, "b": {"c": ["b.y"]}, "c": {"a": ["c.z"]}, "d": {}}

    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ["a.x"]}, "b": {}}) is None


def test_lazy_and_type_checking_imports_count(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from orders.models import Order\n"
        "def f():\n    import webhooks.tasks\n"
        "from . import sibling\n"
    )

    assert imported_packages(module) == {"orders", "webhooks"}
