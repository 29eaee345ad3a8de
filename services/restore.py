"""Restore the embedded broker's log from the audit archive, verifying every hash.

The embedded broker starts empty. Every published event is written back to its
partition in its original offset order, so that the offsets the read models stored
stay valid. Every event's hash and its link to the previous one are verified first:
a broken chain means the archive was altered, and the stack refuses to start.
"""

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from sqlalchemy import Engine

from accountability.events.envelope import StreamHead, verify_link
from accountability.events.errors import DomainError
from accountability.projections import all_projections
from accountability.projections.runner import load_checkpoints
from accountability.projections.sql import metadata as read_models

from . import archive
from .topics import EVENTS, partition_for

log = logging.getLogger(__name__)


class RestoreRefused(RuntimeError):
    """The archive cannot be restored as it is; starting would serve a false history."""


@dataclass(slots=True)
class RestoreReport:
    events: int = 0
    seconds: float = 0.0
    per_partition: dict[int, int] = field(default_factory=dict)
    offsets_preserved: bool = True
    read_models_reset: bool = False


def verify_archive(engine: Engine, partitions: int) -> dict[int, list[tuple[int, bytes]]]:
    """Every published event by partition in offset order, after checking its chain."""
    heads: dict[str, StreamHead] = defaultdict(StreamHead)
    by_partition: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    homes: dict[str, int] = {}
    with engine.connect() as conn:
        for event in archive.published(conn):
            home = homes.get(event.stream_id)
            if home is None:
                home = homes[event.stream_id] = partition_for(event.stream_id, partitions)
            if event.partition != home:
                raise RestoreRefused(_moved(event.stream_id, event.partition, home, partitions))
            try:
                envelope = verify_link(event.raw, heads[event.stream_id])
            except DomainError as exc:
                raise RestoreRefused(
                    f"archived event at partition {event.partition}, offset {event.offset} "
                    f"does not verify: {exc}"
                ) from exc
            heads[event.stream_id] = envelope.head
            by_partition[event.partition].append((event.offset, event.raw))
    return by_partition


def _moved(stream_id: str, partition: int, home: int, partitions: int) -> str:
    """Why a stream found outside the partition its key hashes to refuses the start.

    A stream's commands, and so its events, go to the partition its key hashes to under
    the topic's partition count. An event elsewhere means the count changed since it
    was recorded: the stream's next events would land in another partition than its
    earlier ones, and no reader would see the stream in order.
    """
    return (
        f"the archive holds stream {stream_id} in partition {partition}, but with "
        f"{partitions} partitions it belongs in partition {home}; keep "
        "ACCOUNTABILITY_TOPIC_PARTITIONS as it was when the events were recorded"
    )


async def _produce(bootstrap: str, by_partition: dict[int, list[tuple[int, bytes]]]) -> bool:
    """Write the events back; True when every event landed at its archived offset."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    preserved = True
    try:
        for partition, records in sorted(by_partition.items()):
            futures = [
                await producer.send(EVENTS, value=raw, partition=partition) for _, raw in records
            ]
            results = await asyncio.gather(*futures)
            for (expected, _), metadata in zip(records, results, strict=True):
                if metadata.offset != expected:
                    preserved = False
    finally:
        await producer.stop()
    return preserved


def restore_log(engine: Engine, bootstrap: str, partitions: int) -> RestoreReport:
    started = time.monotonic()
    by_partition = verify_archive(engine, partitions)
    report = RestoreReport(
        events=sum(len(v) for v in by_partition.values()),
        per_partition={p: len(v) for p, v in by_partition.items()},
    )
    if report.events:
        report.offsets_preserved = asyncio.run(_produce(bootstrap, by_partition))
    ends = {p: (records[-1][0] + 1 if records else 0) for p, records in by_partition.items()}
    if not report.offsets_preserved or _read_models_ahead(engine, ends):
        # The stored checkpoints no longer name the same events: rebuild from offset 0.
        read_models.drop_all(engine)
        read_models.create_all(engine)
        report.read_models_reset = True
    report.seconds = time.monotonic() - started
    return report


def _read_models_ahead(engine: Engine, ends: dict[int, int]) -> bool:
    with engine.connect() as conn:
        for projection in all_projections():
            for partition, offset in load_checkpoints(conn, projection.name).items():
                if offset > ends.get(partition, 0):
                    return True
    return False


def commit_projector_offsets(engine: Engine, bootstrap: str, group: str, partitions: int) -> None:
    """Start the live projector where the read models stopped, not at offset 0."""
    lowest: dict[int, int] = dict.fromkeys(range(partitions), -1)
    with engine.connect() as conn:
        for projection in all_projections():
            done = load_checkpoints(conn, projection.name)
            for p in range(partitions):
                offset = done.get(p, 0)
                lowest[p] = offset if lowest[p] < 0 else min(lowest[p], offset)
    offsets = {
        TopicPartition(EVENTS, p): OffsetAndMetadata(o, "", -1) for p, o in lowest.items() if o > 0
    }
    if not offsets:
        return
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.assign(list(offsets))
        consumer.commit(offsets)
    finally:
        consumer.close()
    log.info(
        "projector group %s resumes at %s",
        group,
        {tp.partition: o.offset for tp, o in offsets.items()},
    )
