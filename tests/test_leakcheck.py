"""The end-of-session secret leak check itself (tests/leakcheck.py,
docs/reliability.md#46-secret-leakage)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from clients.keys import generate_notification_secret, generate_raw_key
from notifications.signing import signature_header
from tests import leakcheck
from tests.conftest import SANDBOX_SECRET
from tests.live import REPO_ROOT


def test_generated_keys_secrets_and_signatures_are_recorded():
    raw_key = generate_raw_key()
    secret = generate_notification_secret()
    v1 = signature_header(body=b"{}", secrets=[secret]).rpartition("v1=")[2]

    recorded = leakcheck.recorded()

    assert recorded[raw_key] == "API key"
    assert recorded[secret] == "notification secret"
    assert recorded[v1] == "Paysvc-Signature v1"


def test_a_planted_secret_is_found_with_its_file_line_and_kind(tmp_path):
    raw_key = generate_raw_key()
    planted = tmp_path / "planted.txt"  # not *.log: the session's own scan must not see it
    planted.write_text(f"clean line\nkey={raw_key}, done\nsigned {SANDBOX_SECRET[:20]}\n")

    leaks = leakcheck.find_leaks([planted], {raw_key: "API key", SANDBOX_SECRET: "Binance"})

    assert [(leak.path, leak.line, leak.kind) for leak in leaks] == [(planted, 2, "API key")]
    assert raw_key not in str(leaks[0])  # the report names the secret, never shows it


def test_a_secret_inside_a_longer_token_is_found(tmp_path):
    planted = tmp_path / "planted.txt"
    planted.write_text(f"Authorization: Basic xx{SANDBOX_SECRET}yy==\n")

    assert len(leakcheck.find_leaks([planted], {SANDBOX_SECRET: "Binance"})) == 1


def test_a_session_that_leaks_fails_and_names_file_line_and_secret():
    """The whole mechanism in a pytest of its own: recorder, session log, child log, report."""
    outside = Path(tempfile.mkdtemp(prefix="paysvc-leakcheck-"))  # outside our base temp dir
    env = {
        **os.environ,
        "PAYSVC_LEAKCHECK_PLANTED": "1",
        "PAYSVC_TEST_SECRETS_FILE": str(outside / "secrets.tsv"),
    }
    argv = [
        sys.executable, "-m", "pytest", "tests/leakcheck_planted.py", "-p", "no:cacheprovider",
        "--basetemp", str(outside / "basetemp"), "-q",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180
        )
    finally:
        subprocess.run(["rm", "-rf", str(outside)], check=False)

    output = done.stdout + done.stderr
    assert "2 passed" in output, output
    assert done.returncode == 1, output
    assert "SECRET LEAK CHECK FAILED" in output
    assert "python-session.log:" in output and ": API key (psk_live_" in output, output
    assert "child.log:2: Binance API secret (tests/conftest.py SANDBOX_SECRET)" in output, output
    assert SANDBOX_SECRET not in output
