"""Versioned rows: every row holds from the instant it was recorded until replaced.

A version is valid on ``[recorded_from, recorded_to)`` in the time events were
*recorded* (not the time they happened in the world), so a query "as of" an instant
sees exactly what the log held then, and a figure published once can be reproduced
later, whatever was corrected since. The current version has ``recorded_to`` NULL.
"""

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Index,
    MetaData,
    Table,
    and_,
    bindparam,
    delete,
    or_,
    select,
    update,
)

from .sql import UTCDateTime, chunks, select_chunk_size, upsert

Row = dict[str, Any]
Key = tuple[Any, ...]

FROM, TO = "recorded_from", "recorded_to"


def versioned_table(
    name: str, metadata: MetaData, keys: Sequence[Column[Any]], *columns: Any
) -> Table:
    """A table whose primary key is ``keys`` plus the instant the version starts."""
    key_names = [c.name for c in keys]
    return Table(
        name,
        metadata,
        *keys,
        Column(FROM, UTCDateTime, primary_key=True),
        Column(TO, UTCDateTime),
        *columns,
        # Current versions, the common case, are found through a partial index.
        Index(
            f"ix_{name}_current",
            *key_names,
            sqlite_where=Column(TO).is_(None),
            postgresql_where=Column(TO).is_(None),
        ),
    )


def valid_at(table: Table, instant: datetime | None) -> ColumnElement[bool]:
    """The versions that held at ``instant``; the current ones when it is None."""
    if instant is None:
        return table.c[TO].is_(None)
    return and_(table.c[FROM] <= instant, or_(table.c[TO].is_(None), table.c[TO] > instant))


class VersionWriter:
    """The current versions of some rows, changed in memory, written back once."""

    def __init__(self, table: Table, keys: Sequence[str], group: str) -> None:
        self.table = table
        self.keys = list(keys)
        self._group = self.keys.index(group)
        self._values = [c.name for c in table.columns if c.name not in {*keys, FROM, TO}]
        self._value_of: Callable[[Row], Any] = (
            operator.itemgetter(*self._values) if self._values else lambda _: ()
        )
        self._current: dict[Key, Row] = {}
        self._groups: dict[Any, set[Key]] = {}
        self._loaded: dict[Key, datetime] = {}  # stored current version: its recorded_from
        self._closed: list[tuple[Key, datetime, datetime]] = []  # (key, from, to) to update
        self._emptied: list[tuple[Key, datetime]] = []  # (key, from) stored, to delete
        self._new: dict[tuple[Key, datetime], Row] = {}

    def load(self, conn: Connection, column: str, values: Sequence[Any]) -> None:
        for chunk in chunks(sorted(set(values)), select_chunk_size()):
            query = select(self.table).where(
                self.table.c[column].in_(chunk), self.table.c[TO].is_(None)
            )
            for row in conn.execute(query).mappings():
                data = dict(row)
                key = tuple(data[k] for k in self.keys)
                self._current[key] = data
                self._groups.setdefault(key[self._group], set()).add(key)
                self._loaded[key] = data[FROM]

    def changed_groups(self) -> set[Any]:
        """The groups (cases, say) whose stored rows the next flush changes."""
        keys = [*(k for k, _ in self._new), *(k for k, *_ in self._closed)]
        keys += [k for k, _ in self._emptied]
        return {key[self._group] for key in keys}

    def stored_groups(self, groups: set[Any]) -> set[Any]:
        """Those of ``groups`` that have a current row stored before the flush."""
        keys = [*self._loaded, *(k for k, *_ in self._closed), *(k for k, _ in self._emptied)]
        return {key[self._group] for key in keys} & groups

    def current(self, key: Key) -> Row | None:
        """The current version of ``key``'s row, as changed so far."""
        return self._current.get(key)

    def keys_in(self, group: Any) -> set[Key]:
        """The keys of the current rows of one group (one case, say)."""
        return set(self._groups.get(group, ()))

    def put(self, key: Key, values: Row, at: datetime) -> None:
        """From ``at`` on, the row for ``key`` is ``values`` (nothing happens if unchanged)."""
        existing = self._current.get(key)
        if existing is not None:
            if self._same(existing, values):
                return
            if existing[FROM] >= at:  # the same instant again: amend that version
                amended = {**existing, **values}
                self._current[key] = amended
                self._stage(key, amended)
                return
            self._close(key, existing, at)
        row = {**values, **dict(zip(self.keys, key, strict=True)), FROM: at, TO: None}
        self._current[key] = row
        self._groups.setdefault(key[self._group], set()).add(key)
        self._stage(key, row)

    def _same(self, existing: Row, values: Row) -> bool:
        try:
            same: bool = self._value_of(existing) == self._value_of(values)
            return same
        except KeyError:  # a row that leaves some columns out: they are None
            return all(existing.get(name) == values.get(name) for name in self._values)

    def retire(self, key: Key, at: datetime) -> None:
        existing = self._current.pop(key, None)
        if existing is not None:
            self._groups.get(key[self._group], set()).discard(key)
            self._close(key, existing, at)

    def _stage(self, key: Key, row: Row) -> None:
        self._new[(key, row[FROM])] = row

    def _close(self, key: Key, row: Row, at: datetime) -> None:
        # A version closed at the instant it started held at no instant: it is dropped,
        # so that where batches happen to end never leaves a trace in the versions.
        empty = at <= row[FROM]
        staged = self._new.get((key, row[FROM]))
        if staged is not None:
            if empty:
                del self._new[(key, row[FROM])]
            else:
                staged[TO] = at
        if self._loaded.get(key) == row[FROM]:
            if empty:
                self._emptied.append((key, row[FROM]))
            else:
                self._closed.append((key, row[FROM], at))
            del self._loaded[key]

    def flush(self, conn: Connection) -> None:
        if self._emptied:
            conn.execute(
                delete(self.table).where(
                    and_(
                        *(self.table.c[k] == bindparam(f"k_{k}") for k in self.keys),
                        self.table.c[FROM] == bindparam("k_from"),
                    )
                ),
                [
                    {**{f"k_{k}": v for k, v in zip(self.keys, key, strict=True)},
                     "k_from": start}
                    for key, start in self._emptied
                ],
            )  # fmt: skip
        if self._closed:
            where = and_(
                *(self.table.c[k] == bindparam(f"k_{k}") for k in self.keys),
                self.table.c[FROM] == bindparam("k_from"),
            )
            conn.execute(
                update(self.table).where(where).values({TO: bindparam("k_to")}),
                [
                    {**{f"k_{k}": v for k, v in zip(self.keys, key, strict=True)},
                     "k_from": start, "k_to": end}
                    for key, start, end in self._closed
                ],
            )  # fmt: skip
        upsert(conn, self.table, list(self._new.values()))
        self._emptied.clear()
        self._closed.clear()
        self._new.clear()
