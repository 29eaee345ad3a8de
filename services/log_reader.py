"""Reading the events topic in large batches, and applying it to read models.

Rebuilds, their worker processes and ``verify --live`` read the log this way:
aiokafka's ``getmany`` hands over thousands of records per call, where Faust spends
about 70 µs on each event (BROKER.md).
"""

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Engine

from accountability.events.codec import parse_instant
from accountability.events.errors import DomainError
from accountability.projections.runner import Projection, RawRecord, apply_batch

from .topics import EVENTS

Progress = Callable[[int, int | None], None]
"""Told (records read so far, records to read in all or None while unknown)."""

THRESHOLDS = (50_000, 20, 100)
"""The cyclic collector's thresholds while a log is applied (Python's: 700, 10, 10).

A batch keeps millions of small objects alive until it is written (decoded events,
folds, rows), so at Python's thresholds most collections free nothing, promote
everything, and scan the older generations again and again. Rebuilding 600,000
events of the benchmark log into SQLite in one process took 333 µs per event
instead of 397 (ADR 25)."""


async def read_log(
    bootstrap: str,
    partitions: int | Sequence[int],
    start: dict[int, int] | None = None,
    batch_size: int = 5000,
    *,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[list[RawRecord]]:
    """Every record of the events topic from ``start`` (default 0) to the end, in batches.

    ``partitions`` is the topic's partition count, or the partitions to read.

    The end of each partition is the high watermark seen in fetch responses, read
    once the first fetch has answered (ListOffsets is wrong on the embedded broker).
    With ``until``, each partition ends before its first event recorded later: a
    prefix of every partition, as the log stood at that instant.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        chosen = range(partitions) if isinstance(partitions, int) else partitions
        tps = [TopicPartition(EVENTS, p) for p in chosen]
        consumer.assign(tps)
        first = {tp: (start or {}).get(tp.partition, 0) for tp in tps}
        for tp in tps:
            consumer.seek(tp, first[tp])
        ends: dict[TopicPartition, int] = {}
        read = 0
        while True:
            fetched = await consumer.getmany(*tps, timeout_ms=200, max_records=batch_size)
            batch: list[RawRecord] = []
            for tp, messages in fetched.items():
                for message in messages:
                    if until is not None and _recorded_after(message.value, until):
                        ends[tp] = message.offset  # the prefix ends here, for good
                        consumer.pause(tp)
                        break
                    if message.value is not None:
                        batch.append((tp.partition, message.offset, message.value))
            read += len(batch)
            if batch:
                yield batch
            for tp in tps:
                highwater = consumer.highwater(tp)
                if highwater is not None and tp not in consumer.paused():
                    ends[tp] = highwater
            known = len(ends) == len(tps)
            if progress is not None:
                progress(read, sum(ends[tp] - first[tp] for tp in tps) if known else None)
            if known:
                positions = [await consumer.position(tp) for tp in tps]
                if all(
                    tp in consumer.paused() or pos >= ends[tp]
                    for tp, pos in zip(tps, positions, strict=True)
                ):
                    return
    finally:
        await consumer.stop()


def _recorded_after(value: bytes | None, until: datetime) -> bool:
    """Whether ``value`` is an event recorded after ``until``; unreadable ones are not."""
    if value is None:
        return False
    try:
        recorded = json.loads(value)["recorded_at"]
        return parse_instant(recorded) > until
    except (ValueError, KeyError, TypeError, DomainError):
        return False


async def apply_log(
    engine: Engine,
    projections: Sequence[Projection],
    bootstrap: str,
    partitions: Sequence[int],
    start: dict[int, int],
    *,
    batch_size: int,
    until: datetime | None,
    progress: Progress | None,
) -> int:
    """Apply ``partitions`` of the log from ``start`` to ``engine``; the events applied."""

    def apply(batch: list[RawRecord]) -> None:
        with engine.begin() as conn:
            apply_batch(conn, projections, batch)

    count = 0
    pending: asyncio.Future[None] | None = None
    log = read_log(bootstrap, partitions, start, batch_size, until=until, progress=progress)
    with fewer_collections():
        async for batch in log:
            if pending is not None:
                await pending  # one batch applies while the next one is fetched
            pending = asyncio.ensure_future(asyncio.to_thread(apply, batch))
            count += len(batch)
        if pending is not None:
            await pending
    return count


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cycles at :data:`THRESHOLDS`, then as before."""
    before = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
