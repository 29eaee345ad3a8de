"""SQL helpers shared by the read models: UTC instants and portable upserts."""

import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    MetaData,
    Table,
    TypeDecorator,
    bindparam,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement

metadata = MetaData()
"""The read models' tables; all of them can be dropped and rebuilt from the log."""

# PostgreSQL accepts 65,535 bind parameters per statement, SQLite 32,766.
_MAX_PARAMETERS = 30_000


def naive_utc(value: datetime) -> datetime:
    """``value`` in UTC without its zone, as instants are stored; naive ones are refused."""
    if value.tzinfo is UTC:
        return value.replace(tzinfo=None)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
    return value.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Instants stored as naive UTC and read back as timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def conflict_insert(dialect: Dialect) -> Callable[[Table], Any]:
    """The dialect's INSERT that takes an ON CONFLICT clause (PostgreSQL's or SQLite's)."""
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def add_to(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, or add their values to those of the row with the same primary key."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    statement = conflict_insert(conn.dialect)(table)
    added = {n: table.c[n] + statement.excluded[n] for n in rows[0] if n not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=added), rows)


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, replacing any row with the same primary key."""
    _write(conn, table, rows, replace=True)


def insert_ignoring_duplicates(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows``, skipping any whose primary key is already there."""
    _write(conn, table, rows, replace=False)


def _write(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, replace: bool
) -> None:
    """Write ``rows`` with one prepared statement, converting values as SQLAlchemy would.

    Projections write thousands of rows per batch. SQLAlchemy's per-row parameter
    handling cost about a third of a projector's time, so the statement is compiled
    once per table and dialect, each value goes through its column type's bind
    processor, and the driver's ``executemany`` gets the rows directly.
    """
    if not rows:
        return
    names = tuple(rows[0])
    # A rebuild aims the same tables at a staging schema (blue_green.py): honour it.
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    plan = _plan(conn.dialect, table, names, replace, tuple(sorted(translate.items(), key=repr)))
    values: list[Any] = [tuple(plan.values(row)) for row in rows]
    if not plan.positional:
        values = [dict(zip(plan.order, v, strict=True)) for v in values]
    conn.exec_driver_sql(plan.sql, values)


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    order: tuple[str, ...]
    positional: bool
    getter: Callable[[Mapping[str, Any]], Any]
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]
    """(position, bind processor) of the columns whose values need converting."""
    single: bool

    def values(self, row: Mapping[str, Any]) -> Sequence[Any]:
        got = self.getter(row)
        values = [got] if self.single else list(got)
        for position, convert in self.converters:
            values[position] = convert(values[position])
        return values


@functools.lru_cache(maxsize=256)
def _plan(
    dialect: Dialect,
    table: Table,
    names: tuple[str, ...],
    replace: bool,
    translate: tuple[tuple[str | None, str | None], ...],
) -> _Plan:
    insert = conflict_insert(dialect)
    keys = [c.name for c in table.primary_key.columns]
    statement = insert(table).values({n: bindparam(n, type_=table.c[n].type) for n in names})
    updates = {n: statement.excluded[n] for n in names if n not in keys}
    statement = (
        statement.on_conflict_do_update(index_elements=keys, set_=updates)
        if replace and updates
        else statement.on_conflict_do_nothing(index_elements=keys)
    )
    compiled = statement.compile(
        dialect=dialect, schema_translate_map=dict(translate), render_schema_translate=True
    )
    # A positional statement takes its values in its own order (the table's), not the rows'.
    order = tuple(compiled.positiontup or ()) if compiled.positional else names
    processors = [_bind_processor(table.c[n].type, dialect) for n in order]
    converters = tuple((i, f) for i, f in enumerate(processors) if f is not None)
    getter = operator.itemgetter(*order)
    return _Plan(str(compiled), order, compiled.positional, getter, converters, len(order) == 1)


def _bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(type_, Boolean):
        return _strict_bool  # both drivers take Python's booleans as they are
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    if isinstance(type_, UTCDateTime):
        return _remembered(_sqlite_instant if dialect.name == "sqlite" else processor)
    return processor


_REMEMBERED = 50_000
"""Instants kept per instant column of a statement: a batch binds each one many times."""


def _remembered(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``convert`` answering from the instants it converted lately (:data:`_REMEMBERED`).

    A version's instants recur on its neighbours (one version's end is the next one's
    start) and every row of an event shares its recording instant: a batch of 20,000
    events binds about 17 instants per event, most of them seen before. Equal instants
    in any zone convert to the same stored value, and a naive one never equals an
    aware one, so the answer is the one ``convert`` would give.
    """
    if convert is None:
        return None
    seen: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        if value is None:
            return None
        found = seen.get(value, seen)
        if found is seen:
            found = convert(value)
            if len(seen) >= _REMEMBERED:
                seen.clear()
            seen[value] = found
        return found

    return converted


def _sqlite_instant(value: datetime | None) -> str | None:
    """An instant as SQLAlchemy stores a naive UTC DATETIME in SQLite (``%Y-%m-%d
    %H:%M:%S.%f``), in one step instead of the type's two: a rebuild binds millions."""
    return None if value is None else naive_utc(value).isoformat(" ", "microseconds")


def _strict_bool(value: object) -> object:
    if value is None or value is True or value is False:
        return value
    raise TypeError(f"not a boolean value: {value!r}")


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def key_in(columns: Sequence[ColumnElement[Any]], keys: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN keys`` for one column, ``(a, b) IN keys`` for several."""
    if len(columns) == 1:
        return columns[0].in_(keys)
    return tuple_(*columns).in_(keys)


def select_chunk_size(width: int = 1) -> int:
    return max(1, _MAX_PARAMETERS // max(width, 1))
