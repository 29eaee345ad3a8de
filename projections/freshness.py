"""How far each read model has come: its position in the log and the time it has reached.

``projection_checkpoints`` (the runner's) holds the position: the next offset of each
partition to apply. ``projection_progress`` holds, in the same transaction, when the
last event passed in each partition was recorded. Every GraphQL answer carries both.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Table, select

from accountability.events.codec import format_instant

from .sql import UTCDateTime, metadata

progress = Table(
    "projection_progress",
    metadata,
    Column("projection", String(64), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("recorded_at", UTCDateTime, nullable=False),
)
"""When the last event a projection has passed in each partition was recorded."""


@dataclass(frozen=True, slots=True)
class PartitionPosition:
    partition: int
    next_offset: int
    """Every record below this offset has been applied (or dead-lettered)."""
    recorded_at: datetime | None
    """When the last of those events was recorded."""


@dataclass(frozen=True, slots=True)
class ProjectionFreshness:
    projection: str
    partitions: list[PartitionPosition]

    @property
    def recorded_at(self) -> datetime | None:
        """The most recent recording instant among the partitions' last applied events."""
        instants = [p.recorded_at for p in self.partitions if p.recorded_at is not None]
        return max(instants, default=None)


def positions(
    conn: Connection, checkpoints: Table, names: Sequence[str]
) -> list[ProjectionFreshness]:
    """How far each named projection has come, per partition, in one query."""
    rows = conn.execute(
        select(
            checkpoints.c.projection,
            checkpoints.c.partition,
            checkpoints.c.next_offset,
            progress.c.recorded_at,
        )
        .select_from(
            checkpoints.outerjoin(
                progress,
                (progress.c.projection == checkpoints.c.projection)
                & (progress.c.partition == checkpoints.c.partition),
            )
        )
        .where(checkpoints.c.projection.in_(list(names)))
        .order_by(checkpoints.c.projection, checkpoints.c.partition)
    )
    found: dict[str, list[PartitionPosition]] = {name: [] for name in names}
    for name, partition, offset, recorded_at in rows:
        found[name].append(PartitionPosition(int(partition), int(offset), recorded_at))
    return [ProjectionFreshness(name, found[name]) for name in names]


def as_json(answers: Sequence[ProjectionFreshness]) -> dict[str, Any]:
    """``{projection: {recordedAt, partitions: {"p": {offset, recordedAt}}}}``."""
    return {
        f.projection: {
            "recordedAt": _instant(f.recorded_at),
            "partitions": {
                str(p.partition): {"offset": p.next_offset, "recordedAt": _instant(p.recorded_at)}
                for p in f.partitions
            },
        }
        for f in answers
    }


def _instant(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)
