"""A Celery task message in kombu's Redis envelope, built without Celery or kombu (issue 9).

The webhook intake publishes one ``webhooks.process_event`` per stored delivery, hundreds per
second per core; Celery's ``amqp.as_task_v2`` and kombu's ``Producer.publish`` took about 0.4 ms
of CPU for what is, on Redis, one LPUSH of one JSON document. `redis_task_message` builds that
document directly, field for field what ``apply_async(args, retry=False)`` pushes with Celery's
task protocol 2 and JSON serializer (tests/webhooks/test_publish_redis.py compares the two
through a real Redis; the fault tests' real workers consume it):

- headers: Celery's protocol 2 fields (``lang``, ``task``, ``id``, ``root_id`` = ``id``,
  ``argsrepr`` ...) plus ``extra_headers``;
- body: ``[args, kwargs, embed]``, JSON, base64 as kombu's virtual transport keeps it;
- properties: ``correlation_id`` = the task id, an empty ``reply_to``, ``delivery_mode``,
  priority 0, ``delivery_info`` (exchange, routing key) and a fresh ``delivery_tag`` (kombu's QoS
  keys unacknowledged messages by it).

Only positional arguments that are ints or strings are taken: their ``repr`` is what Celery's
``saferepr`` gives them.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from collections.abc import Mapping

_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_origin: tuple[int, str] | None = None


def redis_task_message(
    *,
    task_name: str,
    args: tuple[int | str, ...],
    task_id: str,
    ignore_result: bool,
    extra_headers: Mapping[str, str],
    exchange: str,
    routing_key: str,
    delivery_mode: int,
) -> str:
    """The JSON text kombu's Redis channel would LPUSH for ``task_name(*args)``."""
    if not all(type(arg) in (int, str) for arg in args):
        raise TypeError("only int and str arguments are supported")
    headers = {
        "lang": "py",
        "task": task_name,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": repr(tuple(args)),
        "kwargsrepr": "{}",
        "origin": _origin_name(),
        "ignore_result": ignore_result,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
        **extra_headers,
    }
    body = json.dumps([list(args), {}, _EMBED])
    return json.dumps(
        {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": {
                "correlation_id": task_id,
                "reply_to": "",
                "delivery_mode": delivery_mode,
                "delivery_info": {"exchange": exchange, "routing_key": routing_key},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def _origin_name() -> str:
    """``gen<pid>@<host>``, as Celery's ``anon_nodename`` (kept per process: forks change it)."""
    global _origin
    pid = os.getpid()
    if _origin is None or _origin[0] != pid:
        _origin = (pid, f"gen{pid}@{socket.gethostname()}")
    return _origin[1]
