"""Apply a batch of log records to read models: rows and offsets in one transaction.

Each projection stores, per partition, the next offset it has to apply. A batch is
applied inside the caller's transaction: records below a projection's checkpoint
are skipped (a redelivery after a crash), the rest go to its ``apply``, and the
checkpoints move past the batch. Commit and both move together; roll back and
neither does. That is effectively-once without Kafka transactions. The checkpoint
rows of the batch's partitions are locked first, so two workers that both hold a
partition during a rebalance apply it one after the other, the second skipping
what the first applied.

A record a projection cannot apply never stops the batch (``dead_letters.py``): the
batch is applied in a savepoint; if that fails it is applied record by record, each
in its own savepoint, and a record that still fails becomes a dead letter of that
projection, with every later record of its stream parked behind it. A database that
is unreachable or locked is not the record's fault: those errors propagate and the
whole batch is retried.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from accountability.events.codec import loads_object
from accountability.events.envelope import Envelope, decode_and_hash
from accountability.events.errors import DomainError
from accountability.events.types import Hash

from . import dead_letters as letters
from .dead_letters import LetterKind, NewLetter
from .freshness import progress
from .sql import UTCDateTime, insert_ignoring_duplicates, metadata, upsert

checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("projection", String(64), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

undecodable = Table(
    "projection_undecodable",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("log_offset", BigInteger, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Record:
    """One event as read from the log: where it sits, its bytes and its decoded envelope."""

    partition: int
    offset: int
    raw: bytes
    envelope: Envelope
    content_hash: Hash
    """SHA-256 recomputed from ``raw``; differs from ``envelope.hash`` if the bytes changed."""


class Projection(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def tables(self) -> tuple[Table, ...]: ...

    def apply(self, conn: Connection, records: Sequence[Record]) -> None: ...


@runtime_checkable
class StreamScoped(Projection, Protocol):
    """A projection whose rows belong to streams, so that one stream can be rebuilt alone."""

    def forget(self, conn: Connection, stream_id: str, partition: int) -> None:
        """Delete everything the projection holds of ``stream_id``, in log ``partition``."""
        ...


class Ordering(StrEnum):
    """What a projection needs applied in order, and so what a dead letter holds back."""

    STREAM = "stream"
    """Each stream's events in sequence (the default): a dead letter parks its stream."""
    PARTITION = "partition"
    """Every offset of a partition (the ledger's trees): a dead letter parks the partition."""


def ordering_of(projection: Projection) -> Ordering:
    """A projection states ``ordering`` when it is not the default, :attr:`Ordering.STREAM`."""
    return Ordering(getattr(projection, "ordering", Ordering.STREAM))


RawRecord = tuple[int, int, bytes]
"""(partition, offset, value) as a consumer hands it over."""


@dataclass(frozen=True, slots=True)
class Undecodable:
    partition: int
    offset: int
    raw: bytes
    reason: str


@dataclass(slots=True)
class BatchReport:
    """What a batch did, for the caller's counters."""

    applied: Counter[tuple[str, int]] = field(default_factory=Counter)
    """Records applied, by (projection, partition)."""
    dead_lettered: Counter[tuple[str, int, LetterKind]] = field(default_factory=Counter)
    """New dead letters, by (projection, partition, kind)."""

    @property
    def records_applied(self) -> int:
        by_projection: Counter[str] = Counter()
        for (name, _), n in self.applied.items():
            by_projection[name] += n
        return max(by_projection.values(), default=0)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's trouble (retry the batch), not the record's."""
    return isinstance(exc, OperationalError | InterfaceError | DisconnectionError | TimeoutError)


def load_checkpoints(conn: Connection, name: str) -> dict[int, int]:
    rows = conn.execute(
        select(checkpoints.c.partition, checkpoints.c.next_offset).where(
            checkpoints.c.projection == name
        )
    )
    return {int(p): int(o) for p, o in rows}


def lock_checkpoints(
    conn: Connection, names: Sequence[str], partitions: Iterable[int], now: datetime
) -> dict[str, dict[int, int]]:
    """Read the checkpoints of ``partitions``, holding them until the transaction ends.

    On PostgreSQL the rows are created if missing and locked (``FOR UPDATE``), always in
    the same order; SQLite's writers already run one at a time (``BEGIN IMMEDIATE``).
    """
    wanted = sorted(set(partitions))
    if conn.dialect.name == "postgresql":
        rows = [
            {"projection": n, "partition": p, "next_offset": 0, "updated_at": now}
            for n in sorted(names)
            for p in wanted
        ]
        conn.execute(
            postgresql.insert(checkpoints).on_conflict_do_nothing(
                index_elements=["projection", "partition"]
            ),
            rows,
        )
    found = conn.execute(
        select(checkpoints.c.projection, checkpoints.c.partition, checkpoints.c.next_offset)
        .where(checkpoints.c.projection.in_(list(names)), checkpoints.c.partition.in_(wanted))
        .order_by(checkpoints.c.projection, checkpoints.c.partition)
        .with_for_update()
    )
    done: dict[str, dict[int, int]] = {name: {} for name in names}
    for name, partition, offset in found:
        done[name][int(partition)] = int(offset)
    return done


def decode_records(raw: Iterable[RawRecord]) -> tuple[list[Record], list[tuple[int, int, str]]]:
    """The records that decode, and (partition, offset, reason) of those that do not."""
    items = _decode_all(raw)
    records = [i for i in items if isinstance(i, Record)]
    failures = [(i.partition, i.offset, i.reason) for i in items if isinstance(i, Undecodable)]
    return records, failures


def _decode_all(raw: Iterable[RawRecord]) -> list[Record | Undecodable]:
    items: list[Record | Undecodable] = []
    for partition, offset, value in raw:
        try:
            envelope, content_hash = decode_and_hash(value)
        except DomainError as exc:
            items.append(Undecodable(partition, offset, value, str(exc)))
            continue
        items.append(Record(partition, offset, value, envelope, content_hash))
    return items


def apply_batch(
    conn: Connection, projections: Sequence[Projection], raw: Sequence[RawRecord]
) -> int:
    """Apply ``raw`` to every projection inside ``conn``'s transaction; return records applied.

    A record that does not decode is kept in ``projection_undecodable`` with its reason
    and becomes a dead letter of every projection, rather than being dropped without trace.
    """
    return apply_records(conn, projections, raw).records_applied


def apply_records(
    conn: Connection,
    projections: Sequence[Projection],
    raw: Sequence[RawRecord],
    now: datetime | None = None,
) -> BatchReport:
    """Apply ``raw`` to every projection inside ``conn``'s transaction; say what happened."""
    report = BatchReport()
    if not raw:
        return report
    now = now or datetime.now(UTC)
    items = _decode_all(raw)
    ends: dict[int, int] = {}
    for partition, offset, _ in raw:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    done = lock_checkpoints(conn, [p.name for p in projections], ends, now)
    for projection in projections:
        passed = done[projection.name]
        fresh = [i for i in items if i.offset >= passed.get(i.partition, 0)]
        if fresh:
            _apply_fresh(conn, projection, fresh, report, now)
        moved = [
            {"projection": projection.name, "partition": p, "next_offset": end, "updated_at": now}
            for p, end in ends.items()
            if end > passed.get(p, 0)
        ]
        upsert(conn, checkpoints, moved)
        upsert(conn, progress, _progress_rows(projection.name, fresh))
    rows = [
        {"partition": i.partition, "log_offset": i.offset, "reason": i.reason, "seen_at": now}
        for i in items
        if isinstance(i, Undecodable)
    ]
    insert_ignoring_duplicates(conn, undecodable, rows)
    return report


def _apply_fresh(
    conn: Connection,
    projection: Projection,
    fresh: Sequence[Record | Undecodable],
    report: BatchReport,
    now: datetime,
) -> None:
    """Apply what is not held back; isolate and dead-letter what fails."""
    ordering = ordering_of(projection)
    blocked = letters.open_scopes(conn, projection.name)
    held: list[NewLetter] = []
    ready: list[Record] = []
    for item in fresh:
        scope = scope_of(ordering, item)
        if isinstance(item, Undecodable):
            held.append(_letter(projection, item, scope, LetterKind.UNDECODABLE, item.reason))
            blocked.add(scope)
        elif scope in blocked:
            held.append(_parked(projection, item, scope))
        else:
            ready.append(item)
    if ready:
        try:
            with conn.begin_nested():
                projection.apply(conn, ready)
            applied = ready
        except Exception as exc:
            if is_transient(exc):
                raise
            applied = _one_by_one(conn, projection, ready, blocked=blocked, held=held)
        for record in applied:
            report.applied[projection.name, record.partition] += 1
    letters.record_letters(conn, held, now)
    for letter in held:
        report.dead_lettered[letter.projection, letter.partition, letter.kind] += 1


def _one_by_one(
    conn: Connection,
    projection: Projection,
    records: Sequence[Record],
    *,
    blocked: set[str],
    held: list[NewLetter],
) -> list[Record]:
    """Apply each record in its own savepoint; dead-letter those that fail."""
    ordering = ordering_of(projection)
    applied: list[Record] = []
    for record in records:
        scope = scope_of(ordering, record)
        if scope in blocked:
            held.append(_parked(projection, record, scope))
            continue
        try:
            with conn.begin_nested():
                projection.apply(conn, [record])
        except Exception as exc:
            if is_transient(exc):
                raise
            held.append(_letter(projection, record, scope, LetterKind.FAILED, describe(exc)))
            blocked.add(scope)
            continue
        applied.append(record)
    return applied


def scope_of(ordering: Ordering, item: Record | Undecodable) -> str:
    """The scope a dead letter of ``item`` holds back: its stream, or its partition."""
    if ordering is Ordering.PARTITION:
        return f"partition:{item.partition}"
    if isinstance(item, Record):
        return item.envelope.stream_id
    stream_id = _peek_stream(item.raw)
    # A record without a readable stream id holds back nothing but itself.
    return stream_id or f"offset:{item.partition}:{item.offset}"


def _peek_stream(raw: bytes) -> str | None:
    try:
        stream_id = loads_object(raw, "envelope").get("stream_id")
    except DomainError:
        return None
    return stream_id if isinstance(stream_id, str) and len(stream_id) <= 80 else None


def describe(exc: BaseException) -> str:
    """An exception as a dead letter's reason: its type and message, briefly."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 2000 else text[:1997] + "..."


def _letter(
    projection: Projection, item: Record | Undecodable, scope: str, kind: LetterKind, reason: str
) -> NewLetter:
    envelope = item.envelope if isinstance(item, Record) else None
    return NewLetter(
        projection=projection.name,
        partition=item.partition,
        offset=item.offset,
        scope=scope,
        kind=kind,
        reason=reason,
        record=item.raw,
        stream_id=envelope.stream_id if envelope else _peek_stream(item.raw),
        event_id=envelope.event_id if envelope else None,
        event_type=envelope.type if envelope else None,
        sequence=envelope.sequence if envelope else None,
    )


def _parked(projection: Projection, record: Record, scope: str) -> NewLetter:
    reason = f"parked behind an earlier dead letter of {scope} in {projection.name}"
    return _letter(projection, record, scope, LetterKind.PARKED, reason)


def _progress_rows(name: str, items: Sequence[Record | Undecodable]) -> list[dict[str, Any]]:
    """The recording instant of the highest-offset event passed in each partition."""
    last: dict[int, Record] = {}
    for item in items:
        if not isinstance(item, Record):
            continue
        seen = last.get(item.partition)
        if seen is None or item.offset > seen.offset:
            last[item.partition] = item
    return [
        {"projection": name, "partition": p, "recorded_at": r.envelope.recorded_at}
        for p, r in last.items()
    ]
