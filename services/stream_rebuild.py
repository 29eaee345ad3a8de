"""Rebuild one stream (a case, or a Member State's commitments) in the live read models.

For a fix that touched one case, a whole rebuild is too much. Each projection whose
rows belong to streams (:class:`~accountability.projections.runner.StreamScoped`)
forgets the stream and applies its events again, read from the log (the stream's
partition, filtered by its key, so that a duplicate in the log is seen as the live
projector saw it), up to the projection's checkpoint: what lies beyond is the live
projector's to apply. It all happens in one transaction that holds the checkpoint
rows of the stream's partition, so the live projector waits rather than interleaves,
and readers see the stream's old rows until the commit. The ledger's trees cover
partitions, not streams, and are left alone.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX
from accountability.projections import all_projections
from accountability.projections.dead_letters import open_scopes
from accountability.projections.runner import (
    Projection,
    StreamScoped,
    decode_records,
    lock_checkpoints,
)

from .blue_green import RebuildRefused
from .kafka import read_partition
from .store import audit_archive
from .topics import EVENTS, partition_for


@dataclass(frozen=True, slots=True)
class StreamRebuildReport:
    stream_id: str
    partition: int
    projections: tuple[str, ...]
    events: int
    """Events of the stream applied again (by the projection that applied most)."""
    skipped: tuple[str, ...]
    """Projections that do not keep rows per stream (the ledger)."""


def rebuild_stream(
    engine: Engine,
    bootstrap: str,
    partitions: int,
    stream_id: str,
    *,
    projections: Sequence[Projection] | None = None,
) -> StreamRebuildReport:
    """Forget ``stream_id`` in every stream-scoped read model and apply its events again."""
    if not stream_id.startswith((CASE_STREAM_PREFIX, STATE_STREAM_PREFIX)):
        raise RebuildRefused(f"stream '{stream_id}' is neither case:<id> nor state:<ISO3>")
    candidates = list(projections or all_projections())
    chosen = [p for p in candidates if isinstance(p, StreamScoped)]
    skipped = tuple(p.name for p in candidates if not isinstance(p, StreamScoped))
    with engine.connect() as conn:
        partition, first = conn.execute(
            select(func.min(audit_archive.c.partition), func.min(audit_archive.c.log_offset))
            .where(audit_archive.c.stream_id == stream_id)
            .group_by(audit_archive.c.stream_id)
        ).one_or_none() or (partition_for(stream_id, partitions), 0)
    raw = asyncio.run(
        read_partition(bootstrap, EVENTS, partition, first or 0, key=stream_id.encode())
    )
    records, _ = decode_records([(partition, offset, value) for offset, value in raw])
    mine = [r for r in records if r.envelope.stream_id == stream_id]
    if not mine:
        raise RebuildRefused(f"the log holds no event of stream '{stream_id}'")
    applied = 0
    with engine.begin() as conn:
        done = lock_checkpoints(conn, [p.name for p in chosen], [partition], datetime.now(UTC))
        for projection in chosen:
            if stream_id in open_scopes(conn, projection.name):
                raise RebuildRefused(
                    f"{stream_id} has open dead letters in {projection.name}: replay them "
                    "(accountability dead-letters replay) rather than rebuild the stream"
                )
            upto = done[projection.name].get(partition, 0)
            applied_here = [r for r in mine if r.offset < upto]
            projection.forget(conn, stream_id, partition)
            projection.apply(conn, applied_here)
            applied = max(applied, len(applied_here))
    return StreamRebuildReport(
        stream_id, partition, tuple(p.name for p in chosen), applied, skipped
    )
