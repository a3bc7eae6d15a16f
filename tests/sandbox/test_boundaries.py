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


# Every module, sub-packages (sandbox/validation/) included.
@pytest.mark.parametrize(
    "path", sorted(SANDBOX.rglob("*.py")), ids=lambda p: str(p.relative_to(SANDBOX))
)
def test_no_sandbox_module_imports_paysvc(path):
    assert imported_packages(path).isdisjoint(PAYSVC_PACKAGES)


def test_the_receiver_uses_the_merchant_sdk():
    assert "paysvc_webhooks" in imported_packages(SANDBOX / "receiver.py")


PAYSVC_ROOT = SANDBOX.parent
# `make run` starts the sandbox next to paysvc and hands it the demo credentials.
LAUNCHERS = {PAYSVC_ROOT / "paysvc" / "devrun.py"}


@pytest.mark.parametrize("package", sorted(PAYSVC_PACKAGES))
def test_no_paysvc_module_imports_the_sandbox(package):
    # Nor the other way round: tests/contract holds both to the same rules, with no shared code.
    for path in sorted((PAYSVC_ROOT / package).rglob("*.py")):
        if path not in LAUNCHERS:
            assert "sandbox" not in imported_packages(path), path
