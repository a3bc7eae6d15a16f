"""API key scopes: what a key may do. A view declares the scope each action needs.

The strings are part of the public contract (keys are created with them and 403 bodies name them),
so they never change meaning; new rights get new scopes.
"""

ORDERS_READ = "orders:read"
ORDERS_WRITE = "orders:write"
REFUNDS_WRITE = "refunds:write"
ACCOUNT_SHARES_READ = "account_shares:read"
ACCOUNT_SHARES_WRITE = "account_shares:write"
CUSTOMERS_WRITE = "customers:write"
EVENTS_READ = "events:read"
EVENTS_WRITE = "events:write"
WEBHOOK_ENDPOINTS_READ = "webhook_endpoints:read"
WEBHOOK_ENDPOINTS_WRITE = "webhook_endpoints:write"

ALL_SCOPES: tuple[str, ...] = (
    ORDERS_READ,
    ORDERS_WRITE,
    REFUNDS_WRITE,
    ACCOUNT_SHARES_READ,
    ACCOUNT_SHARES_WRITE,
    CUSTOMERS_WRITE,
    EVENTS_READ,
    EVENTS_WRITE,
    WEBHOOK_ENDPOINTS_READ,
    WEBHOOK_ENDPOINTS_WRITE,
)

# What a key gets when its creator names no scopes.
DEFAULT_SCOPES: tuple[str, ...] = ALL_SCOPES
