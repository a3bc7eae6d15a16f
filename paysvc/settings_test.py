"""Settings for the test suite: production settings (DEBUG off) with a throwaway secret key.

Tests run with DEBUG off so that they see what production does (error pages, secret redaction).
Live tests pass DJANGO_SETTINGS_MODULE on to the processes they start, so those use this too.
"""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
# Metric files of this run only (child processes inherit the variable).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="paysvc-metrics-"))

from paysvc.settings import *  # noqa: F403

# Whitenoise warns about a missing STATIC_ROOT; tests never run collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
