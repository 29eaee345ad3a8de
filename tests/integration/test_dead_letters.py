"""Poison events: dead-lettered with their reason, their stream parked, replayed once fixed.

The same tests run against SQLite and PostgreSQL; the topic test against a real
(embedded) broker. A projection is made to fail by wrapping a real one, and "fixed"
by letting it through again.
"""

import asyncio
import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import OperationalError
from support.domain import Log
from support.read_models import snapshot

from accountability.events.commands import Actor
from accountability.events.policy import DEFAULT_POLICY
from accountability.events.vocabulary import Role
from accountability.graphql.context import RequestContext, current_actor
from accountability.graphql.schema import build_schema
from accountability.projections import all_projections
from accountability.projections import dead_letters as letters
from accountability.projections.audit_log import AuditLogProjection
from accountability.projections.case_history import CaseHistoryProjection
from accountability.projections.dead_letters import LetterKind, LetterStatus
from accountability.projections.history_tables import case_versions
from accountability.projections.ledger import LedgerProjection, tree_sizes
from accountability.projections.runner import (
    BatchReport,
    Ordering,
    Projection,
    Record,
    apply_records,
    load_checkpoints,
    lock_checkpoints,
    ordering_of,
)
from accountability.projections.sql import metadata as read_models
from accountability.services import metrics
from accountability.services.api.operations import OperationsReader
from accountability.services.broker import EmbeddedBroker
from accountability.services.dead_letters import DeadLetterOutbox, message_of, replay
from accountability.services.kafka import ensure_topics
from accountability.services.settings import Secret, Settings
from accountability.services.topics import DEAD_LETTERS
from accountability.services.worker.projector import Projector

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Breakable:
    """A real projection that raises on the events named in ``poison`` until fixed."""

    def __init__(self, inner: Projection, poison: set[str]) -> None:
        self.inner = inner
        self.poison = poison
        self.calls = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> int:
        return self.inner.version

    @property
    def tables(self) -> Any:
        return self.inner.tables

    @property
    def ordering(self) -> Ordering:
        return ordering_of(self.inner)

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        self.calls += 1
        for record in records:
            if record.envelope.event_id in self.poison:
                raise ValueError(f"no rule for {record.envelope.type} {record.envelope.event_id}")
        self.inner.apply(conn, records)

    def fix(self) -> None:
        self.poison.clear()


@pytest.fixture
def log() -> Log:
    log = Log()
    log.case("A-1", "GAB")
    log.case("A-2", "RWA", substantiated=False)
    log.case("A-3", "NPL", reply_after=None)
    return log


@pytest.fixture
def counted(engine: Engine) -> Engine:
    """The engine with the metric counters' table, emptied."""
    metrics.create_tables(engine)
    with engine.begin() as conn:
        conn.execute(metrics.metric_counters.delete())
    return engine


def event_of(log: Log, stream_id: str, sequence: int) -> str:
    (envelope,) = [e for e in log.envelopes if e.stream_id == stream_id and e.sequence == sequence]
    return envelope.event_id


def apply_in_batches(
    engine: Engine, projections: Sequence[Projection], records: list[Any], size: int = 7
) -> None:
    projector = Projector(engine, projections, count=metrics.count_batch)
    for start in range(0, len(records), size):
        projector.apply(records[start : start + size])


def current_sequence(engine: Engine, case_id: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            select(case_versions.c.last_sequence).where(
                case_versions.c.case_id == case_id, case_versions.c.recorded_to.is_(None)
            )
        ).scalar()


def all_letters(engine: Engine) -> list[letters.DeadLetter]:
    with engine.connect() as conn:
        return letters.page(conn, 1000, None).items


def read_models_only(engine: Engine) -> dict[str, Any]:
    """Every read-model row except the dead letters' own bookkeeping."""
    tables = snapshot(engine)
    for bookkeeping in ("dead_letters", "projection_progress"):
        tables.pop(bookkeeping)
    return tables


def clean_apply(engine: Engine, records: list[Any]) -> dict[str, Any]:
    with engine.begin() as conn:
        for table in reversed(read_models.sorted_tables):
            conn.execute(table.delete())
    apply_in_batches(engine, all_projections(), records, size=1000)
    return read_models_only(engine)


def test_a_poison_event_is_dead_lettered_and_its_stream_parked_while_the_rest_applies(
    counted: Engine, log: Log
) -> None:
    engine = counted
    poison = event_of(log, "case:A-1", 3)
    history = Breakable(CaseHistoryProjection(), {poison})

    apply_in_batches(engine, [AuditLogProjection(), history, LedgerProjection()], log.records)

    found = all_letters(engine)
    a1 = [e for e in log.envelopes if e.stream_id == "case:A-1"]
    assert [(x.projection, x.sequence, x.kind) for x in found] == [
        ("case_history", 3, LetterKind.FAILED),
        *[("case_history", e.sequence, LetterKind.PARKED) for e in a1[3:]],
    ]
    failed = found[0]
    assert failed.status is LetterStatus.OPEN
    assert failed.event_id == poison
    assert "ValueError: no rule for VictimRecorded" in failed.reason
    (raw,) = [r for r in log.records if json.loads(r[2])["event_id"] == poison]
    assert (failed.partition, failed.offset, failed.record) == raw
    # The stream stays at its last consistent state; every other stream and projection
    # is complete, and no checkpoint is stuck.
    assert current_sequence(engine, "A-1") == 2
    assert current_sequence(engine, "A-2") == sum(1 for e in log.envelopes
                                                  if e.stream_id == "case:A-2")  # fmt: skip
    with engine.connect() as conn:
        for name in ("audit_log", "case_history", "ledger"):
            assert load_checkpoints(conn, name) == _ends(log.records)
        values = metrics.counter_values(conn)
    dead = {
        json.loads(labels)["kind"]: n
        for (name, labels), n in values.items()
        if name == metrics.DEAD_LETTERS
    }
    assert dead == {"failed": 1, "parked": len(a1) - 3}
    applied = {
        json.loads(labels)["projection"]: n
        for (name, labels), n in values.items()
        if name == metrics.EVENTS_APPLIED
    }
    assert applied == {
        "audit_log": len(log.records),
        "ledger": len(log.records),
        "case_history": len(log.records) - (len(a1) - 2),
    }


def test_a_replay_once_fixed_applies_the_stream_in_order_and_equals_a_clean_apply(
    counted: Engine, log: Log
) -> None:
    engine = counted
    history = Breakable(CaseHistoryProjection(), {event_of(log, "case:A-2", 4)})
    projections: list[Projection] = [AuditLogProjection(), history, LedgerProjection()]
    apply_in_batches(engine, projections, log.records)
    open_before = len(all_letters(engine))

    still_broken = replay(engine, projections=projections, now=lambda: NOW)
    history.fix()
    (first,) = [x for x in all_letters(engine) if x.kind is LetterKind.FAILED]
    fixed = replay(engine, first.letter_id + 1, projections=projections, now=lambda: NOW)
    after = all_letters(engine)

    (stuck,) = still_broken
    assert (stuck.failed, stuck.replayed, stuck.still_open) == (first.letter_id, [], open_before)
    assert first.attempts == 1
    (report,) = fixed  # replaying a parked letter replays its stream from the first
    assert report.replayed == [x.letter_id for x in after]
    assert report.failed is None
    assert {x.status for x in after} == {LetterStatus.REPLAYED}
    assert all(x.resolved_at == NOW for x in after)
    live = read_models_only(engine)
    assert live == clean_apply(engine, log.records)
    with engine.connect() as conn:
        values = metrics.counter_values(conn)
    assert values[metrics.DEAD_LETTERS_REPLAYED, '{"projection":"case_history"}'] == open_before


def test_records_arriving_after_a_dead_letter_are_parked_until_it_is_replayed(
    counted: Engine, log: Log
) -> None:
    engine = counted
    a3 = [r for r, e in zip(log.records, log.envelopes, strict=True) if e.stream_id == "case:A-3"]
    rest = [r for r in log.records if r not in a3]
    history = Breakable(CaseHistoryProjection(), {event_of(log, "case:A-3", 2)})
    projections: list[Projection] = [AuditLogProjection(), history, LedgerProjection()]

    apply_in_batches(engine, projections, [r for r in log.records if r in a3[:2] or r in rest])
    apply_in_batches(engine, projections, a3[2:])  # later events of the stream, in later batches
    parked = [x for x in all_letters(engine) if x.kind is LetterKind.PARKED]
    history.fix()
    replay(engine, projections=projections, now=lambda: NOW)

    assert [x.sequence for x in parked] == [e.sequence for e in log.envelopes
                                            if e.stream_id == "case:A-3"][2:]  # fmt: skip
    assert current_sequence(engine, "A-3") == len(a3)


def test_an_undecodable_record_parks_its_stream_and_for_the_ledger_its_partition(
    counted: Engine, log: Log
) -> None:
    engine = counted
    stream_records = [r for r, e in zip(log.records, log.envelopes, strict=True)
                      if e.stream_id == "case:A-2"]  # fmt: skip
    partition, offset, raw = stream_records[1]
    broken = json.loads(raw)
    broken["type"] = "AllegationRenamedInAFutureVersion"
    garbled = json.dumps(broken).encode()
    records = [(p, o, garbled if (p, o) == (partition, offset) else v) for p, o, v in log.records]

    apply_in_batches(engine, all_projections(), records)

    found = all_letters(engine)
    by_projection: dict[str, list[letters.DeadLetter]] = {}
    for letter in found:
        by_projection.setdefault(letter.projection, []).append(letter)
    later_in_partition = [o for p, o, _ in log.records if p == partition and o > offset]
    for name in ("audit_log", "case_history"):
        kinds = [(x.kind, x.stream_id) for x in by_projection[name]]
        assert kinds[0] == (LetterKind.UNDECODABLE, "case:A-2")
        assert {k for k, _ in kinds[1:]} == {LetterKind.PARKED}
        assert len(kinds) == len(stream_records) - 1
    ledger_letters = by_projection["ledger"]
    assert [x.offset for x in ledger_letters] == [offset, *later_in_partition]
    assert ledger_letters[0].scope == f"partition:{partition}"
    with engine.connect() as conn:
        assert tree_sizes(conn)[partition] == offset  # the tree stops before the hole
    assert "AllegationRenamedInAFutureVersion" in found[0].reason


def test_a_database_error_is_not_the_records_fault_and_rolls_the_batch_back(
    engine: Engine, log: Log
) -> None:
    class Locked(Breakable):
        def apply(self, conn: Connection, records: Sequence[Record]) -> None:
            raise OperationalError("UPDATE …", {}, Exception("database is locked"))

    projector = Projector(engine, [Locked(AuditLogProjection(), set())], retry_delays=[0.01])

    with pytest.raises(OperationalError):
        projector.apply(log.records[:5])

    assert all_letters(engine) == []
    with engine.connect() as conn:
        assert load_checkpoints(conn, "audit_log") == {}


def test_a_second_worker_on_the_same_partition_waits_then_skips_what_the_first_applied(
    counted: Engine, log: Log
) -> None:
    """During a rebalance two workers may hold a partition: the checkpoint rows order them."""
    engine = counted
    records = [r for r in log.records if r[0] == log.records[0][0]]
    projector = Projector(engine, all_projections(), count=metrics.count_batch)
    projector.apply(records[:3])  # the checkpoint rows exist: they are locked, not created
    partition = records[3:]
    second: list[BatchReport] = []

    with engine.begin() as first:
        lock_checkpoints(first, [p.name for p in all_projections()], [partition[0][0]], NOW)
        other = threading.Thread(target=lambda: second.append(projector.apply(partition)))
        other.start()
        other.join(0.5)
        waited = other.is_alive()
        applied = apply_records(first, all_projections(), partition)
    other.join(30)

    assert waited
    assert applied.records_applied == len(partition)
    assert second[0].records_applied == 0
    with engine.connect() as conn:
        anomalies = conn.execute(text("SELECT count(*) FROM audit_anomalies")).scalar()
    assert anomalies == 0


# --- GraphQL ---------------------------------------------------------------------------

LIST = "{ deadLetters(first: 10) { edges { node { id projection kind status streamId sequence reason record } } pageInfo { hasNextPage } } }"  # noqa: E501
REPLAY = "mutation($id: ID!) { replayDeadLetter(id: $id) { projection scope replayed failed error stillOpen } }"  # noqa: E501


def run_graphql(
    database_url: str, engine: Engine, actor: Actor | None, query: str, **variables: Any
) -> dict[str, Any]:
    settings = replace(Settings.from_env({}), database_url=Secret(database_url))
    no_submitter: Any = None
    context = RequestContext(OperationsReader(engine, settings), no_submitter, DEFAULT_POLICY,
                             lambda: NOW)  # fmt: skip
    token = current_actor.set(actor)
    try:
        result = asyncio.run(
            build_schema().execute_async(query, variable_values=variables, context_value=context)
        )
    finally:
        current_actor.reset(token)
    return {"data": result.data, "errors": [e.formatted for e in result.errors or []]}


def test_oversight_lists_and_replays_dead_letters_over_graphql(
    database_url: str, counted: Engine, log: Log
) -> None:
    engine = counted
    history = Breakable(CaseHistoryProjection(), {event_of(log, "case:A-1", 5)})
    apply_in_batches(engine, [AuditLogProjection(), history, LedgerProjection()], log.records)
    oversight = Actor("panel-1", Role.OVERSIGHT)

    listed = run_graphql(database_url, engine, oversight, LIST)
    member = run_graphql(database_url, engine, Actor("ms-gab", Role.MEMBER_STATE), LIST)
    public = run_graphql(database_url, engine, None, LIST)
    # The code is "fixed": the API's replay uses the projections the code defines.
    head = listed["data"]["deadLetters"]["edges"][0]["node"]
    replayed = run_graphql(database_url, engine, oversight, REPLAY, id=head["id"])
    unknown = run_graphql(database_url, engine, oversight, REPLAY, id="999999")

    assert listed["errors"] == []
    nodes = [e["node"] for e in listed["data"]["deadLetters"]["edges"]]
    assert (nodes[0]["kind"], nodes[0]["status"], nodes[0]["streamId"]) == (
        "FAILED", "OPEN", "case:A-1"
    )  # fmt: skip
    assert json.loads(nodes[0]["record"])["sequence"] == 5
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert public["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert replayed["errors"] == []
    result = replayed["data"]["replayDeadLetter"]
    assert (result["scope"], result["failed"], result["stillOpen"]) == ("case:A-1", None, 0)
    assert result["replayed"] == [n["id"] for n in nodes]
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert current_sequence(engine, "A-1") == sum(1 for e in log.envelopes
                                                  if e.stream_id == "case:A-1")  # fmt: skip


# --- the topic -------------------------------------------------------------------------


class TopicSink:
    """Publishes dead letters with a kafka-python producer, as the worker's Faust one does."""

    def __init__(self, bootstrap: str) -> None:
        from kafka import KafkaProducer

        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")

    async def publish_dead_letters(self, messages: Sequence[Any]) -> None:
        for key, value, headers in messages:
            self.producer.send(DEAD_LETTERS, key=key.encode(), value=value, headers=headers)
        self.producer.flush()


def read_topic(bootstrap: str, partitions: int) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=3000, fetch_max_wait_ms=50)  # fmt: skip
    try:
        consumer.assign([TopicPartition(DEAD_LETTERS, p) for p in range(partitions)])
        consumer.seek_to_beginning()
        return list(consumer)
    finally:
        consumer.close()


@pytest.mark.broker
def test_dead_letters_reach_their_topic_with_the_bytes_and_the_reason(
    counted: Engine, log: Log, broker: EmbeddedBroker, settings: Settings
) -> None:
    engine = counted
    topics = replace(settings, kafka_bootstrap_servers=broker.bootstrap)
    ensure_topics(topics)
    history = Breakable(CaseHistoryProjection(), {event_of(log, "case:A-3", 1)})
    projections: list[Projection] = [AuditLogProjection(), history, LedgerProjection()]
    sink = TopicSink(broker.bootstrap)
    outbox = DeadLetterOutbox(engine, sink)
    apply_in_batches(engine, projections, log.records)

    first = asyncio.run(outbox.flush())
    again = asyncio.run(outbox.flush())
    history.fix()
    replay(engine, projections=projections, now=lambda: NOW)
    after_replay = asyncio.run(outbox.flush())
    sink.producer.close()
    messages = read_topic(broker.bootstrap, topics.topic_partitions)

    found = all_letters(engine)
    assert (first, again, after_replay) == (len(found), 0, len(found))
    assert len(messages) == 2 * len(found)
    by_key: dict[str, list[Any]] = {}
    for message in sorted(messages, key=lambda m: (m.partition, m.offset)):
        by_key.setdefault(message.key.decode(), []).append(message)
    head = found[0]
    key, value, _ = message_of(head)
    published = by_key[key]
    headers = [{k: v.decode() for k, v in m.headers} for m in published]
    assert [m.value for m in published] == [value, value] == [head.record] * 2
    assert [h["status"] for h in headers] == ["open", "replayed"]
    assert headers[0]["projection"] == "case_history"
    assert headers[0]["source-topic"] == "accountability.events"
    assert (headers[0]["source-partition"], headers[0]["source-offset"]) == (
        str(head.partition), str(head.offset)
    )  # fmt: skip
    assert headers[0]["reason"].startswith("ValueError: no rule for AllegationReported")


def _ends(records: list[Any]) -> dict[int, int]:
    ends: dict[int, int] = {}
    for partition, offset, _ in records:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    return ends
