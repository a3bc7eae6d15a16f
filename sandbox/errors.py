"""Binance result codes (docs/binance-pay.md#result-codes, docs/binance-pay.md#endpoints) and the
exception that carries one."""

from __future__ import annotations

SUCCESS = "000000"
UNKNOWN_ERROR = "400000"
INVALID_REQUEST = "400001"
INVALID_SIGNATURE = "400002"
INVALID_TIMESTAMP = "400003"
INVALID_API_KEY_OR_IP = "400004"
INVALID_REQUEST_BODY = "400008"
MANDATORY_PARAM_EMPTY_OR_MALFORMED = "400100"
INVALID_PARAM_WRONG_LENGTH = "400101"
INVALID_PARAM_WRONG_VALUE = "400102"
INVALID_PARAM_ILLEGAL_CHAR = "400103"
INVALID_REQUEST_TOO_LARGE = "400104"
INVALID_MERCHANT_TRADE_NO = "400201"
ORDER_NOT_FOUND = "400202"
INVALID_ORDER_STATUS = "400204"
MERCHANT_ACCESS_FORBIDDEN = "400606"
TOO_MANY_REFUND_ATTEMPTS = "400302"
INVALID_REFUND_AMOUNT = "400303"
REQUEST_ID_INVALID_OR_DUPLICATED = "406301"

# Exact texts seen in real responses (docs/binance-pay.md#response-envelope).
MSG_BAD_SIGNATURE = "Signature for this request is not valid."
MSG_BAD_TIMESTAMP = "Timestamp for this request is outside of the recvWindow."


class ApiError(Exception):
    """A FAIL envelope: ``code`` is the 6-digit Binance code, ``message`` its errorMessage."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class GatewayError(Exception):
    """The non-envelope gateway answer ``{"status":"ERROR","type":"SYS",...}``
    (docs/binance-pay.md#response-envelope)."""
