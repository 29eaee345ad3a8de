"""Audit log: every envelope as it stands in the log, with the state of its chain.

Only what is searched on has its own column; everything else is read from the
stored envelope.

Each event is checked as it arrives: its bytes must hash to its ``hash``, its
``prev_hash`` must be the hash of the stream's previous event and its sequence the
next one. A break is recorded on the event, never hidden. A second event claiming a
(stream, sequence) already taken is kept apart as an anomaly: the first in log order
stands.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
)

from accountability.events.codec import parse_instant
from accountability.events.envelope import GENESIS_HASH

from .paging import CursorError, Page, decode_cursor, encode_cursor
from .rowset import RowSet
from .runner import Record
from .sql import UTCDateTime, insert_ignoring_duplicates, metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("stream_id", String(80), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("chain_valid", Boolean, nullable=False),
    Column("chain_error", Text),
    Column("envelope", Text, nullable=False),
    UniqueConstraint("stream_id", "sequence", name="uq_audit_log_stream_sequence"),
    Index("ix_audit_log_type", "type", "recorded_at"),
    Index("ix_audit_log_actor", "actor_id", "recorded_at"),
    Index("ix_audit_log_recorded", "recorded_at"),
    Index("ix_audit_log_position", "partition", "log_offset"),
)

audit_stream_heads = Table(
    "audit_stream_heads",
    metadata,
    Column("stream_id", String(80), primary_key=True),
    Column("sequence", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("event_id", String(36), nullable=False),
)

audit_anomalies = Table(
    "audit_anomalies",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("log_offset", BigInteger, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("stream_id", String(80), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)


class AuditLogProjection:
    name: Final = "audit_log"
    version: Final = 1
    tables: Final = (audit_log, audit_stream_heads, audit_anomalies)

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        heads = RowSet(audit_stream_heads)
        heads.load(conn, audit_stream_heads.c.stream_id, [r.envelope.stream_id for r in records])
        entries = []
        anomalies = []
        for record in records:
            envelope = record.envelope
            head = heads.get(envelope.stream_id)
            last_sequence = head["sequence"] if head else 0
            if envelope.sequence <= last_sequence:
                if (
                    head is not None
                    and envelope.sequence == last_sequence
                    and (head["event_id"] == envelope.event_id)
                ):
                    continue  # the same event delivered again
                anomalies.append(
                    {
                        "partition": record.partition,
                        "log_offset": record.offset,
                        "event_id": envelope.event_id,
                        "stream_id": envelope.stream_id,
                        "sequence": envelope.sequence,
                        "reason": f"sequence {envelope.sequence} of {envelope.stream_id} "
                        "is already taken by an earlier event in the log",
                    }
                )
                continue
            error = _chain_error(record, head["hash"] if head else GENESIS_HASH, last_sequence)
            entries.append(
                {
                    "event_id": envelope.event_id,
                    "stream_id": envelope.stream_id,
                    "sequence": envelope.sequence,
                    "type": envelope.type,
                    "partition": record.partition,
                    "log_offset": record.offset,
                    "recorded_at": envelope.recorded_at,
                    "actor_id": envelope.actor.principal_id,
                    "chain_valid": error is None,
                    "chain_error": error,
                    "envelope": record.raw.decode("utf-8"),
                }
            )
            heads.put(
                {
                    "stream_id": envelope.stream_id,
                    "sequence": envelope.sequence,
                    "hash": envelope.hash,
                    "event_id": envelope.event_id,
                }
            )
        insert_ignoring_duplicates(conn, audit_log, entries)
        insert_ignoring_duplicates(conn, audit_anomalies, anomalies)
        heads.flush(conn)

    def forget(self, conn: Connection, stream_id: str, partition: int) -> None:
        """Delete every row of ``stream_id``, so that its events can be applied afresh."""
        for table in (audit_log, audit_stream_heads, audit_anomalies):
            conn.execute(delete(table).where(table.c.stream_id == stream_id))


def _chain_error(record: Record, previous_hash: str, previous_sequence: int) -> str | None:
    envelope = record.envelope
    if record.content_hash != envelope.hash:
        return f"content hashes to {record.content_hash}, not to the stored {envelope.hash}"
    if envelope.sequence != previous_sequence + 1:
        return f"sequence {envelope.sequence} follows {previous_sequence}: events are missing"
    if envelope.prev_hash != previous_hash:
        return f"prev_hash {envelope.prev_hash} is not the previous event's hash {previous_hash}"
    return None


# --- reading -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event_id: str
    stream_id: str
    sequence: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str
    actor_role: str
    actor_member_state: str | None
    command_id: str
    prev_hash: str
    hash: str
    chain_valid: bool
    chain_error: str | None
    envelope: str
    cursor: str


def audit_trail(
    conn: Connection, stream_id: str, first: int, after: str | None
) -> Page[AuditEntry]:
    query = select(audit_log).where(audit_log.c.stream_id == stream_id)
    if after is not None:
        (sequence,) = decode_cursor(after, 1)
        if not isinstance(sequence, int):
            raise CursorError(f"malformed cursor '{after}'")
        query = query.where(audit_log.c.sequence > sequence)
    rows = conn.execute(query.order_by(audit_log.c.sequence).limit(first + 1)).mappings().all()
    items = [_audit_entry(r) for r in rows[:first]]
    return Page(items, len(rows) > first, items[-1].cursor if items else None)


def _audit_entry(row: Any) -> AuditEntry:
    stored = json.loads(row["envelope"])
    actor = stored["actor"]
    return AuditEntry(
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        sequence=row["sequence"],
        type=row["type"],
        occurred_at=parse_instant(stored["occurred_at"]),
        recorded_at=row["recorded_at"],
        actor_id=actor["principal_id"],
        actor_role=actor["role"],
        actor_member_state=actor["member_state"],
        command_id=stored["command_id"],
        prev_hash=stored["prev_hash"],
        hash=stored["hash"],
        chain_valid=row["chain_valid"],
        chain_error=row["chain_error"],
        envelope=row["envelope"],
        cursor=encode_cursor(row["sequence"]),
    )
