"""The sandbox talks to paysvc only over HTTP: none of its modules imports paysvc's packages.

It may import the merchant SDK paysvc_webhooks (the demo receiver verifies with it, as a merchant
would): that is what merchants get, not paysvc.
"""

import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
PAYSVC_PACKAGES = {
    "paysvc",
    "binance_pay",
    "clients",
    "orders",
    "webhooks",
    "notifications",
    "campaigns",
    "backoffice",
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.partition(".")[0] for name in names}


@pytest.mark.parametrize("path", sorted(SANDBOX.glob("*.py")), ids=lambda p: p.name)
def test_no_sandbox_module_imports_paysvc(path):
    assert imported_packages(path).isdisjoint(PAYSVC_PACKAGES)


def test_the_receiver_uses_the_merchant_sdk():
    assert "paysvc_webhooks" in imported_packages(SANDBOX / "receiver.py")
