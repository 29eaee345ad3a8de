"""Dead letters: log records a read model could not apply, kept until they are replayed.

A record that does not decode, or whose projection raises while applying it, becomes a
*failed* (or *undecodable*) dead letter of that projection. Every later record of the
same ordering scope (its stream; its partition for a projection ordered by offset, the
ledger) is *parked* behind it instead of being applied: a read model never folds a
stream with a hole in it, it stays at the last state it could build, and the dead
letters say which streams are behind. A replay applies the scope's open letters in log
order through the same projection code and stops at the first that still fails.

Each change bumps ``revision``; the worker publishes a letter to the dead-letter topic
whenever ``revision`` is ahead of ``published_revision`` (an outbox).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)

from .paging import CursorError, Page, decode_cursor, encode_cursor
from .sql import UTCDateTime, conflict_insert, metadata


class LetterKind(StrEnum):
    FAILED = "failed"
    """The projection raised while applying the record."""
    UNDECODABLE = "undecodable"
    """The record is not an envelope this code can read."""
    PARKED = "parked"
    """Held back behind an earlier dead letter of the same scope."""


class LetterStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"


dead_letters = Table(
    "dead_letters",
    metadata,
    Column("letter_id", Integer, primary_key=True, autoincrement=True),
    Column("projection", String(64), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
    Column("scope", String(96), nullable=False),
    Column("stream_id", String(80)),
    Column("event_id", String(36)),
    Column("event_type", String(64)),
    Column("sequence", Integer),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("record", LargeBinary, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("revision", Integer, nullable=False),
    Column("published_revision", Integer, nullable=False),
    UniqueConstraint("projection", "partition", "log_offset", name="uq_dead_letters_position"),
    Index("ix_dead_letters_open", "projection", "status", "scope"),
)


@dataclass(frozen=True, slots=True)
class NewLetter:
    """A dead letter about to be recorded."""

    projection: str
    partition: int
    offset: int
    scope: str
    kind: LetterKind
    reason: str
    record: bytes
    stream_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    letter_id: int
    projection: str
    partition: int
    offset: int
    scope: str
    stream_id: str | None
    event_id: str | None
    event_type: str | None
    sequence: int | None
    kind: LetterKind
    status: LetterStatus
    reason: str
    record: bytes
    attempts: int
    failed_at: datetime
    resolved_at: datetime | None
    revision: int

    @property
    def cursor(self) -> str:
        return encode_cursor(self.letter_id)


def record_letters(conn: Connection, letters: Sequence[NewLetter], now: datetime) -> None:
    """Insert ``letters``; a position already held for the same projection is kept as it is."""
    if not letters:
        return
    rows = [
        {
            "projection": letter.projection,
            "partition": letter.partition,
            "log_offset": letter.offset,
            "scope": letter.scope,
            "stream_id": letter.stream_id,
            "event_id": letter.event_id,
            "event_type": letter.event_type,
            "sequence": letter.sequence,
            "kind": letter.kind.value,
            "status": LetterStatus.OPEN.value,
            "reason": letter.reason,
            "record": letter.record,
            "attempts": 0,
            "failed_at": now,
            "resolved_at": None,
            "revision": 1,
            "published_revision": 0,
        }
        for letter in letters
    ]
    statement = conflict_insert(conn.dialect)(dead_letters).on_conflict_do_nothing(
        index_elements=["projection", "partition", "log_offset"]
    )
    conn.execute(statement, rows)


def open_scopes(conn: Connection, projection: str) -> set[str]:
    """The scopes of ``projection`` that have an open dead letter (their records are parked)."""
    rows = conn.execute(
        select(dead_letters.c.scope)
        .where(
            dead_letters.c.projection == projection,
            dead_letters.c.status == LetterStatus.OPEN.value,
        )
        .distinct()
    )
    return {str(scope) for (scope,) in rows}


def get_letter(conn: Connection, letter_id: int) -> DeadLetter | None:
    row = conn.execute(select(dead_letters).where(dead_letters.c.letter_id == letter_id)).first()
    return None if row is None else _letter(row._mapping)


def next_open(conn: Connection, projection: str, scope: str) -> DeadLetter | None:
    """The first open letter of a scope in log order: the one a replay must apply first."""
    row = conn.execute(
        select(dead_letters)
        .where(
            dead_letters.c.projection == projection,
            dead_letters.c.scope == scope,
            dead_letters.c.status == LetterStatus.OPEN.value,
        )
        .order_by(dead_letters.c.partition, dead_letters.c.log_offset)
        .limit(1)
        .with_for_update()
    ).first()
    return None if row is None else _letter(row._mapping)


def open_heads(conn: Connection) -> list[tuple[str, str]]:
    """Every (projection, scope) with an open letter, in the order of their first letter."""
    first = func.min(dead_letters.c.letter_id)
    rows = conn.execute(
        select(dead_letters.c.projection, dead_letters.c.scope)
        .where(dead_letters.c.status == LetterStatus.OPEN.value)
        .group_by(dead_letters.c.projection, dead_letters.c.scope)
        .order_by(first)
    )
    return [(str(p), str(s)) for p, s in rows]


def count_open(conn: Connection, projection: str, scope: str) -> int:
    value = conn.execute(
        select(func.count()).where(
            dead_letters.c.projection == projection,
            dead_letters.c.scope == scope,
            dead_letters.c.status == LetterStatus.OPEN.value,
        )
    ).scalar()
    return int(value or 0)


def mark_replayed(conn: Connection, letter_id: int, now: datetime) -> None:
    conn.execute(
        update(dead_letters)
        .where(dead_letters.c.letter_id == letter_id)
        .values(
            status=LetterStatus.REPLAYED.value,
            resolved_at=now,
            attempts=dead_letters.c.attempts + 1,
            revision=dead_letters.c.revision + 1,
        )
    )


def mark_failed_again(conn: Connection, letter_id: int, kind: LetterKind, reason: str) -> None:
    """A replay that failed: the letter stays open, now as the scope's failing head."""
    conn.execute(
        update(dead_letters)
        .where(dead_letters.c.letter_id == letter_id)
        .values(
            kind=kind.value,
            reason=reason,
            attempts=dead_letters.c.attempts + 1,
            revision=dead_letters.c.revision + 1,
        )
    )


def page(
    conn: Connection, first: int, after: str | None, *, status: LetterStatus | None = None
) -> Page[DeadLetter]:
    """Dead letters, oldest first (by id), ``first`` at a time after the cursor ``after``."""
    query = select(dead_letters)
    if status is not None:
        query = query.where(dead_letters.c.status == status.value)
    if after is not None:
        (letter_id,) = decode_cursor(after, 1)
        if not isinstance(letter_id, int):
            raise CursorError(f"malformed cursor '{after}'")
        query = query.where(dead_letters.c.letter_id > letter_id)
    rows = conn.execute(query.order_by(dead_letters.c.letter_id).limit(first + 1)).all()
    items = [_letter(row._mapping) for row in rows[:first]]
    return Page(items, len(rows) > first, items[-1].cursor if items else None)


def unpublished(conn: Connection, limit: int = 500) -> list[DeadLetter]:
    """Letters whose latest revision has not reached the dead-letter topic yet."""
    rows = conn.execute(
        select(dead_letters)
        .where(dead_letters.c.revision > dead_letters.c.published_revision)
        .order_by(dead_letters.c.letter_id)
        .limit(limit)
    ).all()
    return [_letter(row._mapping) for row in rows]


def mark_published(conn: Connection, published: Iterable[tuple[int, int]]) -> None:
    """Record that revision ``r`` of letter ``i`` is in the topic, for each ``(i, r)``."""
    for letter_id, revision in published:
        conn.execute(
            update(dead_letters)
            .where(
                dead_letters.c.letter_id == letter_id,
                dead_letters.c.published_revision < revision,
            )
            .values(published_revision=revision)
        )


def open_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """Open letters by (projection, kind)."""
    rows = conn.execute(
        select(dead_letters.c.projection, dead_letters.c.kind, func.count())
        .where(dead_letters.c.status == LetterStatus.OPEN.value)
        .group_by(dead_letters.c.projection, dead_letters.c.kind)
    )
    return {(str(p), str(k)): int(n) for p, k, n in rows}


def _letter(row: Any) -> DeadLetter:
    return DeadLetter(
        letter_id=int(row["letter_id"]),
        projection=row["projection"],
        partition=int(row["partition"]),
        offset=int(row["log_offset"]),
        scope=row["scope"],
        stream_id=row["stream_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        sequence=row["sequence"],
        kind=LetterKind(row["kind"]),
        status=LetterStatus(row["status"]),
        reason=row["reason"],
        record=bytes(row["record"]),
        attempts=int(row["attempts"]),
        failed_at=row["failed_at"],
        resolved_at=row["resolved_at"],
        revision=int(row["revision"]),
    )
