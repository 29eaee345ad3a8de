"""Logs for the benchmarks: built by the pure decider, written in bulk, read back.

A benchmark log is the demo dataset scaled up (``demo_data.generate``), each command
decided and sealed by the pure decider, so its events are exactly what the product
would have recorded, hash chains included. Each command is recorded a few minutes
after it happened (never earlier than the stream's previous record), and the log is
in the order of recording, streams interleaved as in a real history of years: reads
``as of`` an instant and deadlines judged at query time meet realistic data.
"""

import asyncio
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from accountability.events.decider import decide, evolve, initial_state
from accountability.events.envelope import decode_envelope, seal

from .demo_data import generate
from .log_reader import read_log
from .topics import EVENTS, partition_for

EVENTS_PER_DEMO = 8_900
"""Events in the demo dataset at scale 1 (770 cases), rounded down."""

CASES_PER_DEMO = 770


@dataclass(frozen=True, slots=True)
class BenchLog:
    """A log to write: (stream id, stored bytes), in the order they were recorded."""

    items: list[tuple[str, bytes]]
    cases: int
    seconds: float  # to decide and seal every event

    @property
    def events(self) -> int:
        return len(self.items)


def build_log(events: int, *, cases: int = 0, seed: int = 7) -> BenchLog:
    """At least ``events`` events about at least ``cases`` cases."""
    started = time.perf_counter()
    scale = max(1, math.ceil(events / EVENTS_PER_DEMO), math.ceil(cases / CASES_PER_DEMO))
    demo = generate(seed=seed, scale=scale)
    rng = random.Random(seed)
    latest = datetime.now(UTC)
    keyed: list[tuple[datetime, int, int, str, bytes]] = []
    for number, stream in enumerate(demo.streams):
        state = initial_state(stream[0].stream_id)
        recorded = datetime.min.replace(tzinfo=UTC)
        for command in stream:
            delay = timedelta(minutes=rng.randint(1, 240), seconds=rng.randint(0, 59))
            recorded = min(
                latest, max(recorded + timedelta(seconds=1), command.occurred_at + delay)
            )
            decided = decide(state, command, recorded)
            for envelope, raw in seal(state.head, command, decided, recorded):
                state = evolve(state, envelope)
                keyed.append((recorded, number, envelope.sequence, envelope.stream_id, raw))
    keyed.sort(key=lambda item: item[:3])
    items = [(stream_id, raw) for _, _, _, stream_id, raw in keyed]
    return BenchLog(items, demo.cases, time.perf_counter() - started)


async def _write(bootstrap: str, partitions: int, items: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, linger_ms=20,
        max_batch_size=1 << 20, max_request_size=8 << 20,
    )  # fmt: skip
    await producer.start()
    try:
        batches: dict[int, Any] = {}
        for key, raw in items:
            partition = partition_for(key, partitions)
            batch = batches.get(partition) or producer.create_batch()
            if batch.append(key=key.encode(), value=raw, timestamp=None) is None:
                await (await producer.send_batch(batch, EVENTS, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key.encode(), value=raw, timestamp=None)
            batches[partition] = batch
        for partition, batch in batches.items():
            await (await producer.send_batch(batch, EVENTS, partition=partition))
    finally:
        await producer.stop()


def write_log(bootstrap: str, partitions: int, log: BenchLog) -> float:
    """Append the log to the events topic in large batches; the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_write(bootstrap, partitions, log.items))
    return time.perf_counter() - started


async def _consume(bootstrap: str, partitions: int) -> int:
    count = 0
    async for batch in read_log(bootstrap, partitions, batch_size=10_000):
        for _, _, value in batch:
            decode_envelope(value)
        count += len(batch)
    return count


def consume_ceiling(bootstrap: str, partitions: int) -> tuple[int, float]:
    """The ceiling: read every event as a rebuild does, decode it, discard it.

    The reader is the rebuild's own (``read_log``: ``getmany`` in large batches) and
    decoding is the ``decode_envelope`` every reader of the log uses (JSON, the typed
    payload, instants), so this is what a projector in one process could do at best.
    """
    started = time.perf_counter()
    count = asyncio.run(_consume(bootstrap, partitions))
    return count, time.perf_counter() - started
