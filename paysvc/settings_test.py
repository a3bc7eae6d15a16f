"""Settings for the test suite: production settings (DEBUG off) with a throwaway secret key.

Tests run with DEBUG off so that they see what production does (error pages, secret redaction).
Live tests pass DJANGO_SETTINGS_MODULE on to the processes they start, so those use this too
(and record their secrets for the leak check, tests/leakcheck.py).
"""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
# Metric files of this run only (child processes inherit the variable).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="paysvc-metrics-"))

# docs/reliability.md#46-secret-leakage: every API key, notification secret and signature this
# process makes or checks is recorded for the end-of-session log scan (tests/leakcheck.py), in one
# file per test run that child processes inherit. Installed here, before any app module imports the
# wrapped functions.
os.environ.setdefault(
    "PAYSVC_TEST_SECRETS_FILE", tempfile.mkstemp(prefix="paysvc-secrets-", suffix=".tsv")[1]
)
from tests.leakcheck import install_recorders

install_recorders()

from paysvc.settings import *  # noqa: E402, F403

# Whitenoise warns about a missing STATIC_ROOT; tests never run collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
