"""Planted leaks for tests/test_leakcheck.py, which runs this file in a pytest of its own.

Not collected by the suite (the name does not match test_*.py) and skipped unless that test sets
PAYSVC_LEAKCHECK_PLANTED: it leaks on purpose, and the session that runs it must fail.
"""

import logging
import os

import pytest

from clients.keys import generate_raw_key
from tests.conftest import SANDBOX_SECRET

pytestmark = pytest.mark.skipif(
    not os.environ.get("PAYSVC_LEAKCHECK_PLANTED"), reason="run by tests/test_leakcheck.py only"
)


def test_leaks_an_api_key_through_logging():
    raw_key = generate_raw_key()
    logging.getLogger("planted").warning("created key %s", raw_key)


def test_leaks_the_binance_secret_into_a_child_log(tmp_path):
    (tmp_path / "child.log").write_text(f"starting\nusing secret={SANDBOX_SECRET}\n")
