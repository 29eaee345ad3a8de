"""SQL helpers shared by the read models: UTC instants and portable upserts."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, MetaData, Table, TypeDecorator, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement

metadata = MetaData()
"""The read models' tables; all of them can be dropped and rebuilt from the log."""

# PostgreSQL accepts 65,535 bind parameters per statement, SQLite 32,766.
_MAX_PARAMETERS = 30_000


class UTCDateTime(TypeDecorator[datetime]):
    """Instants stored as naive UTC and read back as timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, replacing any row with the same primary key."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    statement = (
        statement.on_conflict_do_update(index_elements=keys, set_=updates)
        if updates
        else statement.on_conflict_do_nothing(index_elements=keys)
    )
    conn.execute(statement, list(rows))


def insert_ignoring_duplicates(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows``, skipping any whose primary key is already there."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(table).on_conflict_do_nothing(index_elements=keys), list(rows))


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
