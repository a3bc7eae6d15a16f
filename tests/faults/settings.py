"""Settings for the processes the fault tests start: the test settings, with beat running only
the webhook sweeper, and every ``PAYSVC_FAULTS_SWEEP_SECONDS`` (default 2 s) instead of 30 s so
that a recovery through the sweeper fits in a test. Nothing else differs from production: the
sweeper's own grace (``webhooks.services.sweeper.RECEIVED_GRACE``, 10 s), the lease, Celery's
acks_late / reject_on_worker_lost / prefetch 1 and Redis's visibility timeout (3600 s) are left
as they are.
"""

import os

from paysvc.settings_test import *  # noqa: F403

SWEEP_SECONDS = float(os.environ.get("PAYSVC_FAULTS_SWEEP_SECONDS", "2"))

CELERY_BEAT_SCHEDULE = {
    "webhooks-sweep": {
        "task": "webhooks.sweep",
        "schedule": SWEEP_SECONDS,
        "options": {"expires": SWEEP_SECONDS},
    },
}
