"""Writes deferred to the end of a batch and issued as a few bulk statements.

Inside ``deferred_writes()`` the services that support it (the order timeline, an order's
status change, merchant events and their deliveries, a webhook event's outcome) queue their
INSERTs and UPDATEs on the collector instead of issuing them, and ``flush()`` writes each
model's new rows with one ``bulk_create``, then its updates with one statement per set of
fields (``update_rows``), or per set of values where many rows get the same ones
(``update_values``). Outside it, everywhere else, they write at once: ``pending()`` is None.

Why: the webhook worker applies payments in batches (webhooks.services.batch); the rules that
decide each payment's effect stay where they are, and only their writes are gathered, so a
batch of 50 payments costs a handful of statements instead of 350. The decisions are the same
as with immediate writes because

* the collector is used only inside one transaction that has locked every row it updates;
* nothing in the batch reads back a row whose write is queued (each order appears once in a
  batch; events and timeline rows are write-only on this path);
* creates are flushed in the order their models were first queued, so a parent created in the
  batch (a merchant event) gets its primary key before its children (its deliveries) are
  inserted (Django fills a child's foreign key from its saved parent).

``memo()`` keeps a read that is the same for the whole batch (an application's webhook
endpoints): the batch is one short transaction, so this is as if it had run a moment earlier.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connections, models, router, transaction

T = TypeVar("T")
_current: ContextVar[DeferredWrites | None] = ContextVar("paysvc_deferred_writes", default=None)


class DeferredWrites:
    """The writes queued in one batch, by model, in the order they were queued."""

    def __init__(self) -> None:
        self._creates: dict[type[models.Model], list[models.Model]] = {}
        self._updates: dict[type[models.Model], dict[int, tuple[models.Model, set[str]]]] = {}
        self._same_values: dict[type[models.Model], dict[tuple[Any, ...], list[Any]]] = {}
        self._memo: dict[Any, Any] = {}

    def create(self, obj: models.Model) -> None:
        """INSERT ``obj`` at the flush (its primary key is set then)."""
        self._creates.setdefault(type(obj), []).append(obj)

    def update(self, obj: models.Model, fields: Iterable[str]) -> None:
        """UPDATE ``fields`` of the saved ``obj`` at the flush, with its values at that time.
        ``auto_now`` fields are not touched by bulk_update: the caller sets them."""
        entry = self._updates.setdefault(type(obj), {}).setdefault(id(obj), (obj, set()))
        entry[1].update(fields)

    def update_values(self, model: type[models.Model], pk: Any, values: dict[str, Any]) -> None:
        """``UPDATE model SET values WHERE pk = pk`` at the flush; rows given the same values
        are updated by one statement (``pk IN (...)``), cheaper than bulk_update's CASE."""
        key = tuple(sorted(values.items()))
        self._same_values.setdefault(model, {}).setdefault(key, []).append(pk)

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` once per batch for ``key``."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    def flush(self) -> None:
        """Issue the queued writes: creates by model (first queued first), then updates."""
        for model, objs in self._creates.items():
            insert_rows(model, objs)
        self._creates.clear()
        for model, entries in self._updates.items():
            by_fields: dict[frozenset[str], list[models.Model]] = {}
            for obj, fields in entries.values():
                by_fields.setdefault(frozenset(fields), []).append(obj)
            for fields, objs in by_fields.items():
                update_rows(model, objs, sorted(fields))
        self._updates.clear()
        for model, groups in self._same_values.items():
            for values, pks in groups.items():
                model._default_manager.filter(pk__in=pks).update(**dict(values))
        self._same_values.clear()


def pending() -> DeferredWrites | None:
    """The collector of the batch running in this context, or None (write at once)."""
    return _current.get()


@contextmanager
def deferred_writes() -> Iterator[DeferredWrites]:
    """Queue the supporting services' writes until the block ends, then flush them. Must run
    inside a transaction (the flush is part of it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("deferred_writes needs a transaction: the flush belongs to it")
    writes = DeferredWrites()
    token = _current.set(writes)
    try:
        yield writes
        writes.flush()
    finally:
        _current.reset(token)


def update_rows(model: type[models.Model], objs: list[models.Model], fields: list[str]) -> None:
    """UPDATE ``fields`` of ``objs`` (saved rows) to their values on the objects, in one statement.

    On PostgreSQL: ``UPDATE t SET f = v.f FROM (VALUES (pk, f), ...) v WHERE t.pk = v.pk``.
    Django's ``bulk_update`` writes ``CASE WHEN pk = 1 THEN ... WHEN pk = 2 ...`` per field,
    which cost a batch of 50 payments more CPU than applying them (resolving 50 x 8 When
    expressions). Elsewhere (SQLite) ``bulk_update`` itself.
    """
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    if db.vendor != "postgresql":
        model._default_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    qn = db.ops.quote_name
    # Each value cast to its column's type: VALUES has no other way to know it (NULLs, jsonb).
    row = "(" + ", ".join(f"%s::{_value_type(field, db)}" for field in columns) + ")"
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), db) for obj in objs for field in columns
    ]
    names = ", ".join(qn(field.column) for field in columns)
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns[1:])
    pk = qn(meta.pk.column)
    # Identifiers come from the model's meta, quoted; every value is a parameter.
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "  # noqa: S608  # nosec B608
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v ({names}) WHERE t.{pk} = v.{pk}"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)


def insert_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT ``objs`` (new rows) in one statement and set their primary keys.

    On PostgreSQL: ``INSERT ... VALUES (...), (...) RETURNING pk``, the statement built once per
    shape. Django's ``bulk_create`` sends each column as an array (``UNNEST``), and psycopg
    quotes arrays for a client-side cursor with a regular expression per element: for merchant
    events, whose JSON payload is full of quotes, that cost more than the rest of the insert;
    and for one row (an order, its timeline line) compiling the INSERT costs more than sending
    it. Elsewhere ``bulk_create``.
    Like it, fills ``auto_now_add`` fields and the foreign keys of parents saved before.
    """
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    if db.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(model, db.alias, len(objs)), _insert_params(objs, db))
        pks = [r[0] for r in cursor.fetchall()]
    # PostgreSQL returns the rows of INSERT ... VALUES in their order (bulk_create relies on it).
    for obj, pk in zip(objs, pks, strict=True):
        _saved(obj, pk, db.alias)


def insert_with_children(parent: models.Model, children: list[models.Model]) -> None:
    """INSERT the new ``parent`` and its new ``children`` (rows whose foreign key is
    ``parent``) as one statement, and set every primary key.

    On PostgreSQL, ``WITH p AS (INSERT parent ... RETURNING pk) INSERT children ... VALUES
    (..., (SELECT pk FROM p), ...) RETURNING pk``: one round trip, atomic by itself, so outside
    a transaction there is no BEGIN or COMMIT to send (an order and its first timeline line:
    four round trips become one). Inside one, it runs in a savepoint, as ``atomic()`` would,
    so an IntegrityError leaves the outer transaction usable. Elsewhere (SQLite), a
    transaction and ``insert_rows`` for each.
    """
    model = type(parent)
    db = connections[router.db_for_write(model)]
    if not children or db.vendor != "postgresql":
        with transaction.atomic(using=db.alias):
            insert_rows(model, [parent])
            if children:
                insert_rows(type(children[0]), children)
        return
    child_model = type(children[0])
    link = _link_to(child_model, model)
    parent._prepare_related_fields_for_save(operation_name="save")
    params = _insert_params([parent], db)
    for child in children:
        params += _insert_params(child, db, skip=link)
    sql = _insert_with_children_sql(model, child_model, db.alias, len(children))
    if db.in_atomic_block:
        with transaction.atomic(using=db.alias), db.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    else:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    _saved(parent, rows[0][1], db.alias)
    for child, (pk, _parent_pk) in zip(children, rows, strict=True):
        setattr(child, link.name, parent)  # the saved parent: its pk is the column's value
        _saved(child, pk, db.alias)


def _link_to(child: type[models.Model], parent: type[models.Model]) -> Any:
    """``child``'s one foreign key to ``parent``."""
    links = [
        f for f in _fields(child) if f.is_relation and f.many_to_one and f.related_model is parent
    ]
    if len(links) != 1:
        raise ValueError(f"{child.__name__} needs exactly one foreign key to {parent.__name__}")
    return links[0]


@functools.lru_cache(maxsize=32)
def _insert_with_children_sql(
    parent: type[models.Model], child: type[models.Model], alias: str, rows: int
) -> str:
    """The statement of `insert_with_children` (built once per shape)."""
    qn = connections[alias].ops.quote_name
    link = _link_to(child, parent)
    parent_pk = qn(parent._meta.pk.column)
    from_parent = f"(SELECT {parent_pk} FROM parent)"  # noqa: S608  # nosec B608
    values = [from_parent if f is link else "%s" for f in _fields(child)]
    row = "(" + ", ".join(values) + ")"
    # Identifiers come from the models' meta, quoted; every value is a parameter.
    return (
        f"WITH parent AS ({_insert_sql(parent, alias, 1)}) "  # noqa: S608  # nosec B608
        f"INSERT INTO {qn(child._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in _fields(child))}) "
        f"VALUES {', '.join([row] * rows)} "
        f"RETURNING {qn(child._meta.pk.column)}, {qn(link.column)}"
    )


def update_returning(
    obj: models.Model, fields: list[str], *, inserting: Sequence[models.Model] = ()
) -> bool:
    """UPDATE ``fields`` of the saved ``obj`` to their values on it and read the row back, in
    one statement; False (nothing written) when the row is gone.

    ``UPDATE t SET f = %s, ... WHERE pk = %s RETURNING <every column>`` (statement built once
    per shape): every other field of ``obj`` is then what the row holds, as after a
    ``select_for_update()`` read, and the row stays locked until the transaction ends. That is a
    locked read and a ``save(update_fields=...)`` in one round trip, without compiling either.
    ``auto_now`` fields are not touched: the caller sets them. Elsewhere than PostgreSQL, the
    ORM's UPDATE and a re-read.

    ``inserting``: new rows of one model (an order's timeline lines) INSERTed by the same
    statement, only if the row was updated, their primary keys set: outside a transaction the
    update and its lines are one autocommitted round trip, with no BEGIN or COMMIT to send.
    """
    model = type(obj)
    db = connections[router.db_for_write(model)]
    meta = model._meta
    written = [meta.get_field(name) for name in fields]
    params = [f.get_db_prep_save(getattr(obj, f.attname), db) for f in written]
    if db.vendor != "postgresql":
        with transaction.atomic(using=db.alias):
            updated = model._default_manager.filter(pk=obj.pk).update(
                **{f.attname: getattr(obj, f.attname) for f in written}
            )
            if updated:
                obj.refresh_from_db()
                if inserting:
                    insert_rows(type(inserting[0]), list(inserting))
        return bool(updated)
    params.append(meta.pk.get_db_prep_value(obj.pk, db))
    if inserting:
        rows = list(inserting)
        for row_obj in rows:
            row_obj._prepare_related_fields_for_save(operation_name="bulk_create")
        params += _insert_params(rows, db)
        sql = _update_returning_inserting_sql(
            model, type(rows[0]), db.alias, tuple(fields), len(rows)
        )
    else:
        sql = _update_returning_sql(model, db.alias, tuple(fields))
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    columns = meta.concrete_fields
    values = from_db_values(columns, row[: len(columns)], db)
    for field, value in zip(columns, values, strict=True):
        setattr(obj, field.attname, value)
    if inserting:
        for row_obj, pk in zip(rows, row[len(columns)], strict=True):
            _saved(row_obj, pk, db.alias)
    return True


@functools.lru_cache(maxsize=32)
def _update_returning_inserting_sql(
    model: type[models.Model],
    child: type[models.Model],
    alias: str,
    fields: tuple[str, ...],
    rows: int,
) -> str:
    """``WITH updated AS (<update_returning's UPDATE>), inserted AS (INSERT INTO child SELECT
    ... FROM (VALUES ...) WHERE EXISTS (SELECT 1 FROM updated) RETURNING pk) SELECT updated.*,
    ARRAY(the new keys, in order) FROM updated`` (built once per shape).

    The VALUES are cast to their columns' types (a VALUES list outside INSERT has no other way
    to know them); the keys come from one sequence in the VALUES' order, so ordering them by
    value is their rows' order.
    """
    db = connections[alias]
    qn = db.ops.quote_name
    columns = _fields(child)
    row = "(" + ", ".join(f"%s::{_value_type(f, db)}" for f in columns) + ")"
    pk = qn(child._meta.pk.column)
    # Identifiers come from the models' meta, quoted; every value is a parameter.
    return (
        f"WITH updated AS ({_update_returning_sql(model, alias, fields)}), "  # noqa: S608  # nosec B608
        f"inserted AS (INSERT INTO {qn(child._meta.db_table)} "
        f"({', '.join(qn(f.column) for f in columns)}) "
        f"SELECT * FROM (VALUES {', '.join([row] * rows)}) AS v "
        f"WHERE EXISTS (SELECT 1 FROM updated) RETURNING {pk}) "
        f"SELECT updated.*, ARRAY(SELECT {pk} FROM inserted ORDER BY {pk}) FROM updated"
    )


def from_db_values(fields: Sequence[Any], row: Sequence[Any], db: Any) -> list[Any]:
    """The values of ``fields`` as a cursor read them in ``row``, converted as the ORM converts
    them (JSON decoded, SQLite's dates parsed): for ``Model.from_db`` or attributes."""
    out = []
    for field, value in zip(fields, row, strict=True):
        for convert in (*db.ops.get_db_converters(field.cached_col), *field.get_db_converters(db)):
            value = convert(value, field.cached_col, db)
        out.append(value)
    return out


def insert_unless_conflict(obj: models.Model, *, unique_field: str) -> bool:
    """INSERT ``obj`` in one autocommitted statement (or within the open transaction); False,
    with nothing written and the transaction still usable, when a row with the same
    ``unique_field`` exists (``ON CONFLICT (...) DO NOTHING RETURNING pk``: PostgreSQL and
    SQLite). Sets the primary key as ``save()`` would. No savepoint, no IntegrityError: the
    webhook intake stores each delivery this way, duplicates included."""
    model = type(obj)
    db = connections[router.db_for_write(model)]
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(model, db.alias, 1, unique_field), _insert_params([obj], db))
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(obj, row[0], db.alias)
    return True


def _fields(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _insert_params(objs: list[models.Model] | models.Model, db: Any, skip: Any = None) -> list[Any]:
    """The INSERT's values of ``objs`` (one or several), column by column; ``skip``: a field
    the statement fills itself."""
    rows = objs if isinstance(objs, list) else [objs]
    fields = [f for f in _fields(type(rows[0])) if f is not skip]
    return [f.get_db_prep_save(f.pre_save(obj, add=True), db) for obj in rows for f in fields]


@functools.lru_cache(maxsize=256)
def _insert_sql(
    model: type[models.Model], alias: str, rows: int, unique_field: str | None = None
) -> str:
    """``INSERT INTO t (columns) VALUES (...) x rows [ON CONFLICT (c) DO NOTHING] RETURNING pk``
    (built once per shape: the webhook intake runs it per delivery)."""
    meta = model._meta
    qn = connections[alias].ops.quote_name
    fields = _fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    conflict = (
        f" ON CONFLICT ({qn(meta.get_field(unique_field).column)}) DO NOTHING"
        if unique_field
        else ""
    )
    # Identifiers come from the model's meta, quoted; every value is a parameter.
    return (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608  # nosec B608
        f"VALUES {', '.join([row] * rows)}{conflict} RETURNING {qn(meta.pk.column)}"
    )


@functools.lru_cache(maxsize=64)
def _update_returning_sql(model: type[models.Model], alias: str, fields: tuple[str, ...]) -> str:
    """``UPDATE t SET f = %s, ... WHERE pk = %s RETURNING <every column>`` (built once per
    shape)."""
    meta = model._meta
    qn = connections[alias].ops.quote_name
    assignments = ", ".join(f"{qn(meta.get_field(name).column)} = %s" for name in fields)
    columns = ", ".join(qn(f.column) for f in meta.concrete_fields)
    # Identifiers come from the model's meta, quoted; every value is a parameter.
    return (
        f"UPDATE {qn(meta.db_table)} SET {assignments} "  # noqa: S608  # nosec B608
        f"WHERE {qn(meta.pk.column)} = %s RETURNING {columns}"
    )


def _value_type(field: Any, db: Any) -> str:
    """The type to cast a VALUES entry of ``field`` to: its column's, without a length or a
    precision (``varchar(255)`` -> ``varchar``). An explicit cast to ``varchar(n)`` would cut a
    longer text silently; without the length, storing it in the column refuses it, as an
    INSERT or UPDATE of the value itself would."""
    return re.sub(r"\(\d+(,\s*\d+)?\)$", "", field.db_type(db))


def _saved(obj: models.Model, pk: Any, alias: str) -> None:
    """Mark ``obj`` as the stored row ``pk``, as ``save()`` leaves it."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = alias
