"""Audit log: every envelope as it stands in the log, with the state of its chain.

Only what is searched on has its own column; everything else is read from the
stored envelope.

Each event is checked as it arrives: its bytes must hash to its ``hash``, its
``prev_hash`` must be the hash of the stream's previous event and its sequence the
next one. A break is recorded on the event, never hidden. A second event claiming a
(stream, sequence) already taken is kept apart as an anomaly: the first in log order
stands.
"""

from collections.abc import Sequence
from typing import Final

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
)

from accountability.events.envelope import GENESIS_HASH

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


def _chain_error(record: Record, previous_hash: str, previous_sequence: int) -> str | None:
    envelope = record.envelope
    if record.content_hash != envelope.hash:
        return f"content hashes to {record.content_hash}, not to the stored {envelope.hash}"
    if envelope.sequence != previous_sequence + 1:
        return f"sequence {envelope.sequence} follows {previous_sequence}: events are missing"
    if envelope.prev_hash != previous_hash:
        return f"prev_hash {envelope.prev_hash} is not the previous event's hash {previous_hash}"
    return None
