"""Rows of one table loaded for a batch, changed in memory, written back once.

A projection folds a whole batch into the rows it touches and then writes each
changed row a single time, instead of one statement per event.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, select

from .sql import chunks, select_chunk_size, upsert

Row = dict[str, Any]
Key = tuple[Any, ...]


class RowSet:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._keys = [c.name for c in table.primary_key.columns]
        self._rows: dict[Key, Row] = {}
        self._dirty: set[Key] = set()

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self._keys)

    def load(self, conn: Connection, column: Column[Any], values: Sequence[Any]) -> None:
        """Load every row whose ``column`` is one of ``values``."""
        for chunk in chunks(sorted(set(values)), select_chunk_size()):
            for row in conn.execute(select(self.table).where(column.in_(chunk))).mappings():
                data = dict(row)
                self._rows.setdefault(self.key_of(data), data)

    def get(self, *key: Any) -> Row | None:
        return self._rows.get(tuple(key))

    def put(self, row: Row) -> Row:
        key = self.key_of(row)
        self._rows[key] = row
        self._dirty.add(key)
        return row

    def touch(self, row: Row) -> None:
        self._dirty.add(self.key_of(row))

    def items(self) -> Iterator[tuple[Key, Row]]:
        yield from self._rows.items()

    def flush(self, conn: Connection) -> int:
        rows = [self._rows[k] for k in sorted(self._dirty, key=repr)]
        upsert(conn, self.table, rows)
        self._dirty.clear()
        return len(rows)


def add_to_list(joined: str, value: str) -> str:
    """Add ``value`` to a comma-separated, sorted set of codes."""
    values = set(filter(None, joined.split(",")))
    values.add(value)
    return ",".join(sorted(values))
