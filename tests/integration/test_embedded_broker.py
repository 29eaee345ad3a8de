"""The Kafka side against a real embedded broker (Tansu): topics, restore, rebuild, bus."""

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from sqlalchemy import Engine
from support.domain import Log, command
from support.read_models import apply, snapshot

from accountability.events import commands as c
from accountability.events.envelope import decode_envelope
from accountability.events.types import CaseId
from accountability.events.vocabulary import AllegationType
from accountability.projections import all_projections
from accountability.projections.runner import apply_batch, load_checkpoints
from accountability.services import archive
from accountability.services.api.bus import CommandBus
from accountability.services.broker import EmbeddedBroker
from accountability.services.kafka import (
    BrokerUnavailable,
    TopicMismatch,
    ensure_topics,
    read_partition,
)
from accountability.services.rebuild import rebuild_into
from accountability.services.restore import (
    RestoreRefused,
    commit_projector_offsets,
    restore_log,
)
from accountability.services.settings import Settings
from accountability.services.store import audit_archive
from accountability.services.topics import COMMANDS, EVENTS, RESULTS

pytestmark = pytest.mark.broker


@pytest.fixture
def broker_settings(settings: Settings, broker: EmbeddedBroker) -> Settings:
    configured = replace(settings, kafka_bootstrap_servers=broker.bootstrap)
    ensure_topics(configured)
    return configured


def archive_log(engine: Engine, log: Log) -> None:
    """Put ``log`` in the archive as published events at their offsets."""
    staged = [
        archive.StagedEvent(decode_envelope(raw), raw, partition)
        for partition, _, raw in log.records
    ]
    with engine.begin() as conn:
        archive.stage(conn, staged, [], datetime.now(UTC))
        archive.record_positions(conn, [(e.envelope.event_id, p, o) for e, (p, o, _) in zip(
            staged, log.records, strict=True
        )], [])  # fmt: skip


def read_back(bootstrap: str, partitions: int) -> list[tuple[int, int, bytes]]:
    return [
        (p, offset, value)
        for p in range(partitions)
        for offset, value in asyncio.run(read_partition(bootstrap, EVENTS, p, 0))
    ]


def test_topics_are_created_once_with_the_configured_partitions(
    broker_settings: Settings,
) -> None:
    ensure_topics(broker_settings)  # a second time changes nothing

    # The embedded broker stores topic configs but does not report them back (BROKER.md),
    # so the properties themselves are checked in tests/unit/test_topics.py.
    admin = KafkaAdminClient(bootstrap_servers=broker_settings.kafka_bootstrap_servers)
    try:
        described = admin.describe_topics([COMMANDS, EVENTS, RESULTS])
    finally:
        admin.close()
    partitions = {t["name"]: len(t["partitions"]) for t in described}
    assert partitions == dict.fromkeys((COMMANDS, EVENTS, RESULTS), 4)


def test_the_log_is_restored_at_its_original_offsets(
    engine: Engine, broker_settings: Settings
) -> None:
    log = Log()
    log.case("R-1", "GAB")
    log.case("R-2", "RWA", reply_after=None)
    archive_log(engine, log)

    report = restore_log(engine, broker_settings.kafka_bootstrap_servers, 4)

    assert report.events == len(log.records)
    assert report.offsets_preserved
    assert not report.read_models_reset
    assert sorted(read_back(broker_settings.kafka_bootstrap_servers, 4)) == sorted(log.records)


def test_topics_that_exist_with_another_partition_count_are_refused(
    broker_settings: Settings,
) -> None:
    with pytest.raises(TopicMismatch) as refused:
        ensure_topics(replace(broker_settings, topic_partitions=8))

    assert "has 4 partitions but ACCOUNTABILITY_TOPIC_PARTITIONS is 8" in str(refused.value)


def test_a_changed_archive_is_refused_and_names_the_event(
    engine: Engine, broker_settings: Settings
) -> None:
    log = Log()
    log.case("R-1", "GAB")
    archive_log(engine, log)
    victim = decode_envelope(log.records[3][2])
    with engine.begin() as conn:
        raw = log.records[3][2].decode().replace('"GAB"', '"FRA"')
        conn.execute(
            audit_archive.update()
            .where(audit_archive.c.event_id == victim.event_id)
            .values(envelope=raw)
        )

    with pytest.raises(RestoreRefused) as refused:
        restore_log(engine, broker_settings.kafka_bootstrap_servers, 4)

    assert victim.event_id in str(refused.value)
    assert "does not verify" in str(refused.value)


@pytest.mark.parametrize("partitions", [pytest.param(2, id="fewer"), pytest.param(8, id="more")])
def test_another_partition_count_is_refused_and_names_a_stream(
    engine: Engine, broker_settings: Settings, partitions: int
) -> None:
    log = Log()  # recorded with 4 partitions
    for n in range(8):
        log.case(f"P-{n}", "GAB")
    archive_log(engine, log)

    with pytest.raises(RestoreRefused) as refused:
        restore_log(engine, broker_settings.kafka_bootstrap_servers, partitions)

    assert "ACCOUNTABILITY_TOPIC_PARTITIONS" in str(refused.value)
    assert "stream case:P-" in str(refused.value)
    assert read_back(broker_settings.kafka_bootstrap_servers, 4) == []


def test_read_models_ahead_of_the_archive_are_reset(
    engine: Engine, broker_settings: Settings
) -> None:
    log = Log()
    log.case("R-1", "GAB")
    archive_log(engine, log)
    unarchived = (0, 500, log.records[0][2])  # a projector saw more than the archive holds
    with engine.begin() as conn:
        apply_batch(conn, all_projections(), [*log.records, unarchived])

    report = restore_log(engine, broker_settings.kafka_bootstrap_servers, 4)

    assert report.read_models_reset
    with engine.connect() as conn:
        assert load_checkpoints(conn, "case_file") == {}


def test_the_projector_group_resumes_at_the_read_models_checkpoints(
    engine: Engine, broker_settings: Settings
) -> None:
    log = Log()
    log.case("R-1", "GAB")
    with engine.begin() as conn:
        apply_batch(conn, all_projections(), log.records)

    commit_projector_offsets(engine, broker_settings.kafka_bootstrap_servers, "group-x", 4)

    consumer = KafkaConsumer(
        bootstrap_servers=broker_settings.kafka_bootstrap_servers, group_id="group-x"
    )
    try:
        committed = {p: consumer.committed(TopicPartition(EVENTS, p)) for p in range(4)}
    finally:
        consumer.close()
    with engine.connect() as conn:
        expected = load_checkpoints(conn, "audit_log")
    assert {p: o for p, o in committed.items() if o} == expected


def test_a_rebuild_from_the_log_equals_applying_it_live(
    engine: Engine, broker_settings: Settings, database_url: str
) -> None:
    log = Log()
    for n in range(6):
        log.case(f"B-{n}", ["GAB", "RWA", "NPL"][n % 3])
        log.case(f"C-{n}", "BGD")
    asyncio.run(_write(broker_settings.kafka_bootstrap_servers, log))
    apply(engine, log.records, batch=3)
    live = snapshot(engine)

    report = rebuild_into(engine, broker_settings.kafka_bootstrap_servers, 4, batch_size=10)

    assert report.events == len(log.records)
    assert snapshot(engine) == live


async def _write(bootstrap: str, log: Log) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for partition, _, raw in log.records:
            await producer.send_and_wait(EVENTS, raw, partition=partition)
    finally:
        await producer.stop()


def test_with_the_broker_down_a_command_fails_fast_and_clearly(
    broker_settings: Settings, broker: EmbeddedBroker
) -> None:
    bus = CommandBus(broker_settings)
    bus.start()
    broker.stop()
    envelope = command(c.ReportAllegation(CaseId("D-1"), AllegationType.SEXUAL_ABUSE))

    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as failure:
        asyncio.run(bus.submit(envelope))
    elapsed = time.monotonic() - started
    bus.stop()

    assert "nothing was recorded" in str(failure.value)
    assert elapsed < broker_settings.broker_timeout_seconds + 5
