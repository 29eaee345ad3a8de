"""Apply a batch of log records to read models: rows and offsets in one transaction.

Each projection stores, per partition, the next offset it has to apply. A batch is
applied inside the caller's transaction: records below a projection's checkpoint
are skipped (a redelivery after a crash), the rest go to its ``apply``, and the
checkpoints move past the batch. Commit and both move together; roll back and
neither does. That is effectively-once without Kafka transactions.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

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

from accountability.events.envelope import Envelope, decode_and_hash
from accountability.events.errors import DomainError
from accountability.events.types import Hash

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


RawRecord = tuple[int, int, bytes]
"""(partition, offset, value) as a consumer hands it over."""


def load_checkpoints(conn: Connection, name: str) -> dict[int, int]:
    rows = conn.execute(
        select(checkpoints.c.partition, checkpoints.c.next_offset).where(
            checkpoints.c.projection == name
        )
    )
    return {int(p): int(o) for p, o in rows}


def decode_records(raw: Iterable[RawRecord]) -> tuple[list[Record], list[tuple[int, int, str]]]:
    records: list[Record] = []
    failures: list[tuple[int, int, str]] = []
    for partition, offset, value in raw:
        try:
            envelope, content_hash = decode_and_hash(value)
            records.append(Record(partition, offset, value, envelope, content_hash))
        except DomainError as exc:
            failures.append((partition, offset, str(exc)))
    return records, failures


def apply_batch(
    conn: Connection, projections: Sequence[Projection], raw: Sequence[RawRecord]
) -> int:
    """Apply ``raw`` to every projection inside ``conn``'s transaction; return records applied.

    A record that does not decode is kept in ``projection_undecodable`` with its reason
    rather than dropped without trace.
    """
    if not raw:
        return 0
    records, failures = decode_records(raw)
    now = datetime.now(UTC)
    ends: dict[int, int] = {}
    for partition, offset, _ in raw:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    applied = 0
    for projection in projections:
        done = load_checkpoints(conn, projection.name)
        fresh = [r for r in records if r.offset >= done.get(r.partition, 0)]
        if fresh:
            projection.apply(conn, fresh)
            applied = max(applied, len(fresh))
        moved = [
            {"projection": projection.name, "partition": p, "next_offset": end, "updated_at": now}
            for p, end in ends.items()
            if end > done.get(p, 0)
        ]
        upsert(conn, checkpoints, moved)
    rows = [
        {"partition": p, "log_offset": o, "reason": reason, "seen_at": now}
        for p, o, reason in failures
    ]
    insert_ignoring_duplicates(conn, undecodable, rows)
    return applied
