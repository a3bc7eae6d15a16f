"""PostgreSQL: the completion endpoint's statement as a PL/pgSQL function, `paysvc_web3_facts`.

Why: planning the statement (a UNION of three id lookups, the paid orders with their refunds,
the shares) cost ~0.36 ms of database CPU per answer against ~0.05 ms to run it (EXPLAIN ANALYZE
on the benchmark's 1,000,000 orders, bench/README.md). Sent as text it is planned on every call;
inside a function its plan is kept for the connection's life, and ``plan_cache_mode =
force_generic_plan`` keeps the one generic plan (every lookup is an equality on an indexed
column, so one plan fits every id). The caller still sends ``SET LOCAL statement_timeout`` in the
same message (campaigns/dbtimeout.py), which bounds the whole call.

Every value the rules depend on (paid statuses, refund statuses that hold money, the SHARED
status) is a parameter, so this function holds only the shape of the query. It is the same query
as `campaigns.selectors._sql()` (which SQLite runs); tests/campaigns/test_facts_function.py
checks that both give the same rows. A change to one is a change to both, and here a new
migration with CREATE OR REPLACE.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION paysvc_web3_facts(
    p_value text,          -- the unified id, normalised as registered identifiers are
    p_raw text,            -- the unified id as given (trimmed): Binance IDs, openUserIds
    p_apps bigint[],       -- applications of the tasks asked
    p_shared text,         -- AccountShareStatus.SHARED
    p_held text[],         -- refund statuses that hold money
    p_paid text[],         -- order statuses that count as paid
    p_with_shares boolean  -- whether the share rows are wanted
)
RETURNS TABLE (source text, application_id bigint, customer_ref text, currency text,
               at timestamptz, amount numeric, held numeric)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH who (application_id, customer_ref) AS (
        SELECT i.application_id, i.customer_ref::text FROM campaigns_customeridentifier i
         WHERE i.value = p_value AND i.application_id = ANY (p_apps)
        UNION
        SELECT a.application_id, a.customer_ref::text FROM orders_accountshare a
         WHERE a.user_binance_id = p_raw AND a.status = p_shared AND a.customer_ref <> ''
           AND a.application_id = ANY (p_apps)
        UNION
        SELECT u.application_id, u.customer_ref::text FROM orders_order u
         WHERE u.open_user_id = p_raw AND u.customer_ref <> '' AND u.application_id = ANY (p_apps)
    )
    SELECT 'o'::text, who.application_id, who.customer_ref, o.currency::text, o.paid_at,
           COALESCE(o.total_fee, o.order_amount)::numeric,
           (SELECT SUM(r.refund_amount) FROM orders_refund r
             WHERE r.order_id = o.id AND r.status = ANY (p_held))::numeric
      FROM who JOIN orders_order o
        ON o.application_id = who.application_id AND o.customer_ref = who.customer_ref
     WHERE o.status = ANY (p_paid)
    UNION ALL
    SELECT 's'::text, who.application_id, who.customer_ref, NULL::text, s.shared_at,
           NULL::numeric, NULL::numeric
      FROM who JOIN orders_accountshare s
        ON s.application_id = who.application_id AND s.customer_ref = who.customer_ref
     WHERE p_with_shares AND s.status = p_shared
    UNION ALL
    SELECT 'c'::text, who.application_id, who.customer_ref, NULL::text, NULL::timestamptz,
           NULL::numeric, NULL::numeric
      FROM who;
END
$fn$
"""

DROP = (
    "DROP FUNCTION IF EXISTS paysvc_web3_facts(text, text, bigint[], text, text[], text[], boolean)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("orders", "0005_idempotency_lease"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
