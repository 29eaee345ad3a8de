"""Rebuild read models from offset 0, reading the log directly in large batches.

A rebuild does not go through Faust: Faust spends about 70 µs on every event
(BROKER.md), a ceiling of some 14,000 events/s, whereas aiokafka's ``getmany``
hands over thousands of records per call. Batches are applied with the same
``apply_batch`` as the live projector, each in its own transaction with its
checkpoints, so a rebuild that stops half-way resumes where it stopped.

This module fills a database; ``blue_green.py`` rebuilds beside the live read
models and switches, ``stream_rebuild.py`` rebuilds one stream in place.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Engine

from accountability.events.codec import parse_instant
from accountability.events.errors import DomainError
from accountability.projections import all_projections
from accountability.projections.runner import Projection, RawRecord, apply_batch, load_checkpoints
from accountability.projections.sql import metadata as read_models

from .topics import EVENTS

Progress = Callable[[int, int | None], None]
"""Told (records read so far, records to read in all or None while unknown)."""


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def read_log(
    bootstrap: str,
    partitions: int,
    start: dict[int, int] | None = None,
    batch_size: int = 5000,
    *,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[list[RawRecord]]:
    """Every record of the events topic from ``start`` (default 0) to the end, in batches.

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
        tps = [TopicPartition(EVENTS, p) for p in range(partitions)]
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


def reset_read_models(engine: Engine) -> None:
    all_projections()  # their modules define the tables
    read_models.drop_all(engine)
    read_models.create_all(engine)


def rebuild_into(
    engine: Engine,
    bootstrap: str,
    partitions: int,
    *,
    projections: Sequence[Projection] | None = None,
    batch_size: int = 5000,
    fresh: bool = True,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RebuildReport:
    """Rebuild the read models in ``engine`` from the log; resume unless ``fresh``.

    ``until`` stops at the log as it stood at that instant (see :func:`read_log`).
    """
    chosen = list(projections or all_projections())
    if fresh:
        reset_read_models(engine)
    with engine.connect() as conn:
        done = [load_checkpoints(conn, p.name) for p in chosen]
    start = {p: min(d.get(p, 0) for d in done) for p in range(partitions)}

    def apply(batch: list[RawRecord]) -> None:
        with engine.begin() as conn:
            apply_batch(conn, chosen, batch)

    async def run() -> int:
        count = 0
        pending: asyncio.Future[None] | None = None
        log = read_log(bootstrap, partitions, start, batch_size, until=until, progress=progress)
        async for batch in log:
            if pending is not None:
                await pending  # one batch applies while the next one is fetched
            pending = asyncio.ensure_future(asyncio.to_thread(apply, batch))
            count += len(batch)
        if pending is not None:
            await pending
        return count

    started = time.perf_counter()
    count = asyncio.run(run())
    return RebuildReport(count, time.perf_counter() - started)
