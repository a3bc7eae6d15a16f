"""The orders app in the staff admin: the order ledger with its actions, refunds, account shares,
the order timeline and the orders' section of the dashboard.

Modules: ``orders`` (OrderAdmin), ``ledgers`` (refunds, shares), ``actions`` (sync, close, refund,
CSV export), ``filters``, ``search``, ``forms``, ``timeline`` (the order's own history; other apps
add theirs through backoffice.timeline), ``dashboard`` (registered with backoffice.dashboard).
Importing this package registers all of them with the admin site.
"""

from orders.admin import dashboard, ledgers, orders, timeline

__all__ = ["dashboard", "ledgers", "orders", "timeline"]
