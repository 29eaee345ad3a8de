"""The audit archive and the command results: what the decider writes to SQL.

An event is written here first, without an offset (pending), then published to the
log, then given its offset. Because (stream, sequence) is unique here, two deciders
that both believe they own a stream cannot both extend it: the second one's insert
fails before anything reaches the log.
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from accountability.events.codec import canonical_json
from accountability.events.commands import CommandEnvelope
from accountability.events.envelope import Envelope
from accountability.events.types import StreamId
from accountability.events.wire import CommandResult, command_to_json, decode_result, encode_result
from accountability.projections.sql import chunks, select_chunk_size

from .store import audit_archive, command_results


@dataclass(frozen=True, slots=True)
class StagedEvent:
    envelope: Envelope
    raw: bytes
    partition: int


@dataclass(frozen=True, slots=True)
class StoredResult:
    result: CommandResult
    fingerprint: str
    published: bool


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    event_id: str
    stream_id: str
    sequence: int
    partition: int
    offset: int | None
    raw: bytes


def fingerprint(command: CommandEnvelope) -> str:
    """What makes two submissions under one command id the same command.

    When and under which correlation it was sent, and the instant it names (which a
    client may leave to default to "now"), do not: a retry may differ in those.
    """
    data = command_to_json(command)
    for volatile in ("issued_at", "correlation_id", "occurred_at"):
        data.pop(volatile)
    return hashlib.sha256(canonical_json(data)).hexdigest()


def find_results(conn: Connection, command_ids: Iterable[str]) -> dict[str, StoredResult]:
    found: dict[str, StoredResult] = {}
    ids = sorted(set(command_ids))
    for chunk in chunks(ids, select_chunk_size()):
        rows = conn.execute(
            select(
                command_results.c.command_id,
                command_results.c.fingerprint,
                command_results.c.published,
                command_results.c.result,
            ).where(command_results.c.command_id.in_(chunk))
        )
        for command_id, digest, published, result in rows:
            found[command_id] = StoredResult(decode_result(result), digest, bool(published))
    return found


def load_streams(conn: Connection, stream_ids: Iterable[str]) -> dict[StreamId, list[bytes]]:
    """Every archived event of each stream, in sequence order, as stored bytes."""
    streams: dict[StreamId, list[bytes]] = {}
    for chunk in chunks(sorted(set(stream_ids)), select_chunk_size()):
        rows = conn.execute(
            select(audit_archive.c.stream_id, audit_archive.c.envelope)
            .where(audit_archive.c.stream_id.in_(chunk))
            .order_by(audit_archive.c.stream_id, audit_archive.c.sequence)
        )
        for stream_id, envelope in rows:
            streams.setdefault(StreamId(stream_id), []).append(envelope.encode("utf-8"))
    return streams


def stage(
    conn: Connection,
    events: Sequence[StagedEvent],
    results: Sequence[tuple[CommandResult, str]],
    now: datetime,
) -> None:
    """Write decided events (pending, no offset yet) and the answers to their commands."""
    if events:
        conn.execute(
            audit_archive.insert(),
            [
                {
                    "event_id": e.envelope.event_id,
                    "stream_id": e.envelope.stream_id,
                    "sequence": e.envelope.sequence,
                    "type": e.envelope.type,
                    "command_id": e.envelope.command_id,
                    "partition": e.partition,
                    "log_offset": None,
                    "recorded_at": e.envelope.recorded_at,
                    "hash": e.envelope.hash,
                    "envelope": e.raw.decode("utf-8"),
                }
                for e in events
            ],
        )
    if results:
        conn.execute(
            command_results.insert(),
            [
                {
                    "command_id": result.command_id,
                    "stream_id": result.stream_id,
                    "fingerprint": digest,
                    "status": result.status,
                    "published": result.status == "rejected",
                    "result": encode_result(result).decode("utf-8"),
                    "decided_at": now,
                }
                for result, digest in results
            ],
        )


def record_positions(
    conn: Connection,
    placed: Sequence[tuple[str, int, int]],
    results: Sequence[CommandResult],
) -> None:
    """Give published events their (partition, offset) and mark their commands answered."""
    for event_id, partition, offset in placed:
        conn.execute(
            update(audit_archive)
            .where(audit_archive.c.event_id == event_id)
            .values(partition=partition, log_offset=offset)
        )
    for result in results:
        conn.execute(
            update(command_results)
            .where(command_results.c.command_id == result.command_id)
            .values(published=True, result=encode_result(result).decode("utf-8"))
        )


def pending(conn: Connection, partition: int) -> list[ArchivedEvent]:
    """Events decided for ``partition`` that have no offset yet, in decision order."""
    rows = conn.execute(
        select(
            audit_archive.c.event_id,
            audit_archive.c.stream_id,
            audit_archive.c.sequence,
            audit_archive.c.partition,
            audit_archive.c.log_offset,
            audit_archive.c.envelope,
        )
        .where(audit_archive.c.partition == partition, audit_archive.c.log_offset.is_(None))
        .order_by(audit_archive.c.stream_id, audit_archive.c.sequence)
    )
    return [
        ArchivedEvent(event_id, stream_id, sequence, p, offset, raw.encode("utf-8"))
        for event_id, stream_id, sequence, p, offset, raw in rows
    ]


def partitions_with_pending(conn: Connection) -> list[int]:
    rows = conn.execute(
        select(audit_archive.c.partition)
        .where(audit_archive.c.log_offset.is_(None))
        .group_by(audit_archive.c.partition)
    )
    return sorted(int(p) for (p,) in rows)


def end_offset(conn: Connection, partition: int) -> int:
    """One past the highest archived offset of ``partition`` (0 when it has none)."""
    value = conn.execute(
        select(func.max(audit_archive.c.log_offset)).where(audit_archive.c.partition == partition)
    ).scalar()
    return 0 if value is None else int(value) + 1


def results_of(conn: Connection, command_ids: Iterable[str]) -> dict[str, CommandResult]:
    return {k: v.result for k, v in find_results(conn, command_ids).items()}


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An archived event that is in the log, at ``offset`` of ``partition``."""

    event_id: str
    stream_id: str
    sequence: int
    partition: int
    offset: int
    raw: bytes


def published(conn: Connection, batch_size: int = 5000) -> Iterator[LoggedEvent]:
    """Every published event in (partition, offset) order, streamed in batches."""
    last: tuple[int, int] = (-1, -1)
    while True:
        rows = conn.execute(
            select(
                audit_archive.c.event_id,
                audit_archive.c.stream_id,
                audit_archive.c.sequence,
                audit_archive.c.partition,
                audit_archive.c.log_offset,
                audit_archive.c.envelope,
            )
            .where(
                audit_archive.c.log_offset.is_not(None),
                (audit_archive.c.partition > last[0])
                | ((audit_archive.c.partition == last[0]) & (audit_archive.c.log_offset > last[1])),
            )
            .order_by(audit_archive.c.partition, audit_archive.c.log_offset)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        for event_id, stream_id, sequence, partition, offset, raw in rows:
            yield LoggedEvent(event_id, stream_id, sequence, partition, offset, raw.encode())
        last = (int(rows[-1][3]), int(rows[-1][4]))


def events_of_command(conn: Connection, command_id: str) -> list[bytes]:
    rows = conn.execute(
        select(audit_archive.c.envelope)
        .where(audit_archive.c.command_id == command_id)
        .order_by(audit_archive.c.sequence)
    )
    return [raw.encode("utf-8") for (raw,) in rows]


def events_by_id(conn: Connection, event_ids: Sequence[str]) -> list[bytes]:
    found: dict[str, bytes] = {}
    for chunk in chunks(list(event_ids), select_chunk_size()):
        rows = conn.execute(
            select(audit_archive.c.event_id, audit_archive.c.envelope).where(
                audit_archive.c.event_id.in_(chunk)
            )
        )
        found.update({event_id: raw.encode("utf-8") for event_id, raw in rows})
    return [found[e] for e in event_ids if e in found]
