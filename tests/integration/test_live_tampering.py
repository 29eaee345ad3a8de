"""Tampering with a copy of the live log: ``verify --live`` fails and names the event.

The ledger and a signed checkpoint are made from the log as it was recorded; a copy of
that log, with one event changed, dropped, moved or inserted, is written to a fresh
broker; verifying the copy against the checkpoint must fail at the first event that
differs, named by partition, offset, stream, sequence and id. (The same tampering of
an export bundle is tried in ``test_ledger.py``.)
"""

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from support.domain import Log
from support.read_models import apply

from accountability.events.codec import canonical_json
from accountability.events.envelope import GENESIS_HASH, hash_body
from accountability.services import db
from accountability.services.broker import EmbeddedBroker
from accountability.services.checkpoints import publish_checkpoint
from accountability.services.kafka import ensure_topics
from accountability.services.settings import Settings
from accountability.services.topics import EVENTS
from accountability.services.verify import Problem
from accountability.services.verify_live import verify_live

pytestmark = pytest.mark.broker

PARTITIONS = 4
NOW = datetime(2026, 1, 1, tzinfo=UTC)
Tamper = Callable[[list[bytes]], list[bytes]]
AT = 3
"""Where each tampering happens in its partition, and so where verification must stop."""


def _log() -> Log:
    log = Log(partitions=PARTITIONS)
    for number, country in enumerate(["GAB", "RWA", "NPL", "PAK", "BGD", "URY", "GAB", "NPL"]):
        log.case(f"T-{number}", country, reply_after=timedelta(days=2))
    return log


def _event(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def _reseal(event: dict[str, Any]) -> bytes:
    body = {k: v for k, v in event.items() if k != "hash"}
    return canonical_json({**body, "hash": hash_body(body)})


def changed(events: list[bytes]) -> list[bytes]:
    event = _event(events[AT])
    event["occurred_at"] = "2020-01-01T00:00:00.000000Z"  # its stored hash stays
    return [*events[:AT], canonical_json(event), *events[AT + 1 :]]


def changed_and_rehashed(events: list[bytes]) -> list[bytes]:
    event = _event(events[AT])
    event["actor"]["principal_id"] = "someone-else"
    return [*events[:AT], _reseal(event), *events[AT + 1 :]]


def dropped(events: list[bytes]) -> list[bytes]:
    return [*events[:AT], *events[AT + 1 :]]


def reordered(events: list[bytes]) -> list[bytes]:
    stream = _event(events[AT])["stream_id"]
    later = next(i for i in range(AT + 1, len(events)) if _event(events[i])["stream_id"] != stream)
    moved = list(events)
    moved[AT], moved[later] = moved[later], moved[AT]
    return moved


def inserted(events: list[bytes]) -> list[bytes]:
    forged = _event(events[0])
    forged.update(stream_id="case:FORGED", sequence=1, prev_hash=GENESIS_HASH)
    return [*events[:AT], _reseal(forged), *events[AT:]]


async def _produce(bootstrap: str, partitions: dict[int, list[bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for partition, events in sorted(partitions.items()):
            for raw in events:
                await producer.send_and_wait(EVENTS, raw, partition=partition)
    finally:
        await producer.stop()


def _first(problems: tuple[Problem, ...] | list[Problem]) -> Problem:
    assert problems, "the tampered copy verified"
    return problems[0]


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        pytest.param(changed, "hashes to", id="changed"),
        pytest.param(changed_and_rehashed, "not the event", id="changed-rehashed"),
        pytest.param(dropped, "is missing", id="dropped"),
        pytest.param(reordered, "not the event", id="reordered"),
        pytest.param(inserted, "not the event", id="inserted"),
    ],
)
def test_a_tampered_copy_of_the_live_log_fails_at_the_event(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path, tamper: Tamper, says: str
) -> None:
    log = _log()
    engine = db.create(f"sqlite:///{tmp_path / 'ledger.db'}")
    db.create_schema(engine)
    apply(engine, log.records)
    publish_checkpoint(engine, tmp_path / "keys" / "checkpoint.pem", NOW, partitions=PARTITIONS)
    by_partition: dict[int, list[bytes]] = {}
    for partition, _, raw in sorted(log.records):
        by_partition.setdefault(partition, []).append(raw)
    target = max(by_partition, key=lambda p: len(by_partition[p]))
    copy = {**by_partition, target: tamper(by_partition[target])}
    ensure_topics(replace(settings, kafka_bootstrap_servers=broker.bootstrap))
    asyncio.run(_produce(broker.bootstrap, copy))

    try:
        report = verify_live(engine, broker.bootstrap, PARTITIONS, processes=1)
    finally:
        engine.dispose()

    problem = _first(report.problems)
    named = _event(copy[target][AT])
    assert (problem.kind, problem.partition, problem.offset) == (
        "event", target, AT,
    ), problem.describe()  # fmt: skip
    assert (problem.stream_id, problem.sequence, problem.event_id) == (
        named["stream_id"], named["sequence"], named["event_id"],
    ), problem.describe()  # fmt: skip
    assert says in problem.what, problem.describe()
    assert not report.ok
    assert problem.describe() in report.render()
