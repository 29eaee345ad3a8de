"""Kafka plumbing shared by the processes: admin, topic creation, reading a partition."""

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .settings import Settings
from .topics import TopicSpec, topic_specs

log = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The Kafka cluster did not answer in time."""


class TopicMismatch(Exception):
    """A topic exists with properties the settings contradict."""


def ensure_topics(settings: Settings, timeout: float = 30.0) -> None:
    """Create the product's topics with their properties.

    Existing topics are kept once their partition counts are checked against the
    settings (:class:`TopicMismatch` otherwise).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap_servers,
                client_id="accountability-admin",
                request_timeout_ms=10_000,
            )
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise BrokerUnavailable(
                    f"no Kafka broker answers at {settings.kafka_bootstrap_servers}: {exc}"
                ) from exc
            time.sleep(0.5)
    try:
        specs = topic_specs(settings)
        existing = set(admin.list_topics())
        present = [spec.name for spec in specs if spec.name in existing]
        if present:
            described = admin.describe_topics(present)
            ensure_partition_counts(specs, {t["name"]: len(t["partitions"]) for t in described})
        for spec in specs:
            if spec.name in existing:
                continue
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, spec.replication_factor,
                              topic_configs=spec.config)]
                )  # fmt: skip
                log.info("created topic %s (%d partitions)", spec.name, spec.partitions)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


def ensure_partition_counts(specs: Sequence[TopicSpec], found: Mapping[str, int]) -> None:
    """Refuse topics that exist with another partition count than the settings give.

    A stream lives in the partition its key hashes to under that count, and the decider
    writes a stream's events to the partition its commands came from: with the count
    changed, a stream's new events would land apart from its old ones.
    """
    for spec in specs:
        count = found.get(spec.name)
        if count is not None and count != spec.partitions:
            raise TopicMismatch(
                f"topic {spec.name} has {count} partitions but "
                f"ACCOUNTABILITY_TOPIC_PARTITIONS is {spec.partitions}; set it to {count} "
                "(the count is fixed once the log has events)"
            )


async def read_partition(
    bootstrap: str,
    topic: str,
    partition: int,
    start: int,
    *,
    timeout: float = 30.0,
    max_records: int | None = None,
    key: bytes | None = None,
) -> list[tuple[int, bytes]]:
    """Read ``topic``/``partition`` from ``start`` to its end, as (offset, value) pairs.

    With ``key``, only the records of that key are kept (one stream's events).

    The end is the high watermark reported in fetch responses; the embedded broker
    answers ListOffsets(latest) wrongly (BROKER.md), so ``end_offsets`` is not used.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_wait_ms=50,
    )
    tp = TopicPartition(topic, partition)
    records: list[tuple[int, bytes]] = []
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, start)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            batch = await consumer.getmany(tp, timeout_ms=200, max_records=10_000)
            for message in batch.get(tp, []):
                if message.value is not None and (key is None or message.key == key):
                    records.append((message.offset, message.value))
            highwater = consumer.highwater(tp)
            if highwater is not None and await consumer.position(tp) >= highwater:
                return records
            if max_records is not None and len(records) >= max_records:
                return records
            if asyncio.get_running_loop().time() > deadline:
                raise BrokerUnavailable(
                    f"reading {topic}[{partition}] from {start} did not reach its end "
                    f"within {timeout:.0f}s"
                )
    finally:
        await consumer.stop()
