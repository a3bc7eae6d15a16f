"""Settings for the scale-out test (tests/faults/test_scale_out.py): the fault settings, with beat
running the WHOLE production schedule instead of only the sweeper, every task at a short interval,
so that two beats running at once race on every periodic task within the test.

The schedule is derived from ``paysvc.settings.CELERY_BEAT_SCHEDULE`` (a periodic task added
there is raced here too); only the periods change: the sweeper every ``PAYSVC_FAULTS_SWEEP_SECONDS``
(as in the other fault tests), everything else every ``PAYSVC_SCALE_BEAT_SECONDS`` (default 1 s;
production: 15 s to 1 h). Each run still expires after one period, as in production. The tasks'
own leases and graces are left as they are.
"""

import os

from paysvc import settings as _production
from tests.faults.settings import *  # noqa: F403
from tests.faults.settings import SWEEP_SECONDS

BEAT_SECONDS = float(os.environ.get("PAYSVC_SCALE_BEAT_SECONDS", "1"))

CELERY_BEAT_SCHEDULE = {
    name: {
        **entry,
        "schedule": SWEEP_SECONDS if entry["task"] == "webhooks.sweep" else BEAT_SECONDS,
        "options": {
            **entry.get("options", {}),
            "expires": SWEEP_SECONDS if entry["task"] == "webhooks.sweep" else BEAT_SECONDS,
        },
    }
    for name, entry in _production.CELERY_BEAT_SCHEDULE.items()
}
