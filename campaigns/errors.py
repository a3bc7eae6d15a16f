"""The Web3 API's result codes and the exceptions that carry them.

Codes are Binance's (docs/web3.md#codes, V0.0.8; docs/web3.md#version-differences for 000002 from
V0.0.6/7). The HTTP status that goes with each is ours (campaigns/README.md, "Codes"): the envelope
is the answer, so every expected outcome is HTTP 200, except a rate limit (429 with Retry-After, as
the newest revision of the spec asks); 5xx only for a failure we did not expect.
"""

from __future__ import annotations

SUCCESS = "000000"
TOO_MANY_REQUESTS = "000001"
SYSTEM_BUSY = "000002"
INVALID_ARGUMENT = "000006"
OTHER_ERROR = "000007"

MESSAGES = {
    SUCCESS: "success",
    TOO_MANY_REQUESTS: "too many requests",
    SYSTEM_BUSY: "system busy",
    INVALID_ARGUMENT: "invalid argument",
    OTHER_ERROR: "other error",
}


class Web3Error(Exception):
    """An answer other than success. `reason` is for our logs only, never sent."""

    code = OTHER_ERROR
    http_status = 200
    retry_after: int | None = None

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidArgument(Web3Error):
    code = INVALID_ARGUMENT


class TooManyRequests(Web3Error):
    code = TOO_MANY_REQUESTS
    http_status = 429

    def __init__(self, reason: str, *, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class SystemBusy(Web3Error):
    """Overloaded, timed out or the database is unreachable: we did not check, ask again."""

    code = SYSTEM_BUSY
    retry_after = 1


class NotFound(Web3Error):
    http_status = 404


class MethodNotAllowed(Web3Error):
    http_status = 405
