"""Deciders in several processes: the archive fences them, against SQLite and PostgreSQL.

Each :class:`Decider` below stands for a worker process (its own cache, its own view of
which partitions it owns); they share the database and an in-memory log, as workers
share the database and Kafka during a rebalance.
"""

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, select
from support.domain import T0, command

from accountability.events import commands as c
from accountability.events.envelope import StreamHead, verify_link
from accountability.events.types import CaseId, CountryCode, StreamId
from accountability.events.vocabulary import AgeGroup, AllegationType, PersonnelCategory, Sex
from accountability.events.wire import CommandResult, decode_result, encode_command
from accountability.services.store import audit_archive, command_results
from accountability.services.worker.decider import Decider, IncomingCommand

CASE = CaseId("P-1")


class SharedLog:
    """The events and answers topics as every process sees them."""

    def __init__(self) -> None:
        self.events: dict[int, list[bytes]] = {}
        self.results: list[CommandResult] = []
        self.fail_publishing = False

    async def publish_events(self, partition: int, items: Sequence[tuple[str, bytes]]) -> list[int]:
        if self.fail_publishing:
            raise ConnectionError("the process died before publishing")
        log = self.events.setdefault(partition, [])
        start = len(log)
        log.extend(value for _, value in items)
        return list(range(start, len(log)))

    async def publish_results(self, items: Sequence[tuple[str, bytes]]) -> None:
        self.results.extend(decode_result(value) for _, value in items)

    async def read_events(self, partition: int, start: int) -> list[tuple[int, bytes]]:
        return list(enumerate(self.events.get(partition, [])))[start:]

    def answers(self, command_id: str) -> list[CommandResult]:
        return [r for r in self.results if r.command_id == command_id]


def step(n: int, cmd: c.Command) -> IncomingCommand:
    envelope = command(cmd, at=T0 + timedelta(hours=n), command_id=f"step-{n}")
    return IncomingCommand(0, n, encode_command(envelope))


REPORT = step(1, c.ReportAllegation(CASE, AllegationType.SEXUAL_ABUSE, "MINUSCA"))
IDENTIFY = step(
    2, c.IdentifyAllegedPerpetrator(CASE, PersonnelCategory.MILITARY_MC, CountryCode("GAB"),
                                    Sex.MALE)
)  # fmt: skip
NOTIFY = step(3, c.NotifyMemberState(CASE, CountryCode("GAB")))
VICTIM = step(4, c.RecordVictim(CASE, AgeGroup.ADULT, Sex.FEMALE))


def run(decider: Decider, *batch: IncomingCommand) -> None:
    asyncio.run(decider.handle(list(batch)))


def archived(engine: Engine) -> list[tuple[int, int | None, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_archive.c.sequence, audit_archive.c.log_offset, audit_archive.c.type)
            .order_by(audit_archive.c.sequence)
        )  # fmt: skip
        return [(s, o, t) for s, o, t in rows]


def test_a_zombie_deciders_stale_cache_is_noticed_before_it_decides(engine: Engine) -> None:
    log = SharedLog()
    first, second = Decider(engine, log), Decider(engine, log)
    run(first, REPORT)  # the first caches the stream at sequence 1

    run(second, IDENTIFY)  # the partition moved: the second extends the stream
    run(first, NOTIFY)  # the first never heard: on its stale cache NOTIFY would be refused

    assert [(s, t) for s, _, t in archived(engine)] == [
        (1, "AllegationReported"), (2, "AllegedPerpetratorIdentified"),
        (3, "MemberStateNotified"),
    ]  # fmt: skip
    assert [r.status for r in log.results] == ["accepted"] * 3
    head = StreamHead()
    for raw in log.events[0]:
        head = verify_link(raw, head).head
    assert head.sequence == 3


def test_a_stream_extended_between_read_and_write_is_fenced_and_planned_again(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns (BEGIN IMMEDIATE): they cannot interleave")
    log = SharedLog()
    first, second = Decider(engine, log), Decider(engine, log)
    run(first, REPORT)
    load = first._load_states
    interleaved: list[bool] = []

    def load_then_lose_the_race(conn: Connection, stream_ids: set[StreamId]) -> None:
        load(conn, stream_ids)
        if not interleaved:  # another process commits sequence 2 after this one has read
            interleaved.append(True)
            racer = threading.Thread(target=run, args=(second, IDENTIFY))
            racer.start()
            racer.join()

    first._load_states = load_then_lose_the_race  # type: ignore[method-assign]
    run(first, VICTIM)

    assert [(s, t) for s, _, t in archived(engine)] == [
        (1, "AllegationReported"), (2, "AllegedPerpetratorIdentified"), (3, "VictimRecorded"),
    ]  # fmt: skip
    assert [r.status for r in log.answers("step-4")] == ["accepted"]


def test_a_command_another_process_is_still_publishing_is_not_answered_early(
    engine: Engine,
) -> None:
    log = SharedLog()
    owner, successor = Decider(engine, log), Decider(engine, log)
    run(successor, REPORT)  # the successor has reconciled partition 0 already
    log.fail_publishing = True
    with contextlib.suppress(ConnectionError):
        run(owner, IDENTIFY)  # stored and answered in SQL, not yet in the log
    log.fail_publishing = False

    run(successor, IDENTIFY)  # redelivered to the successor while the owner publishes

    assert log.answers("step-2") == []  # an answer now would confirm an event not in the log
    assert archived(engine)[-1] == (2, None, "AllegedPerpetratorIdentified")
    owner.partitions_assigned({0})
    asyncio.run(owner.reconcile_assigned())
    (answer,) = log.answers("step-2")
    assert answer.status == "accepted"
    assert answer.positions[0].offset == 1
    with engine.connect() as conn:
        published = conn.execute(select(command_results.c.published)).scalars().all()
    assert published == [True, True]


def test_a_partition_revoked_during_reconciliation_is_left_to_its_new_owner(
    engine: Engine,
) -> None:
    log = SharedLog()
    crashed = Decider(engine, log)
    log.fail_publishing = True
    with contextlib.suppress(ConnectionError):
        run(crashed, REPORT)
    log.fail_publishing = False
    leaving = Decider(engine, log)
    leaving.partitions_assigned({0})
    reading = log.read_events

    async def read_then_lose(partition: int, start: int) -> list[tuple[int, bytes]]:
        tail = await reading(partition, start)
        leaving.partitions_revoked({0})  # a rebalance completes meanwhile
        return tail

    log.read_events = read_then_lose  # type: ignore[method-assign]
    asyncio.run(leaving.reconcile_assigned())

    assert log.events == {}
    assert archived(engine) == [(1, None, "AllegationReported")]
