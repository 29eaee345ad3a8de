"""The decider service against real SQL (SQLite and PostgreSQL) and an in-memory log.

The in-memory log stands in for Kafka so that failures can be injected exactly
between the archive write and the publish; the real broker is exercised by the
end-to-end tests.
"""

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from support.domain import T0, command, state_actor

from accountability.events import commands as c
from accountability.events.envelope import GENESIS_HASH, StreamHead, verify_link
from accountability.events.types import CaseId, CountryCode, StreamId
from accountability.events.vocabulary import AllegationType, PersonnelCategory, Sex
from accountability.events.wire import (
    CommandResult,
    decode_result,
    encode_command,
    encode_result,
)
from accountability.services import archive
from accountability.services.store import audit_archive
from accountability.services.worker.decider import Decider, IncomingCommand


class MemoryLog:
    """Partitions of the events topic and the results, with a switch to fail publishing."""

    def __init__(self) -> None:
        self.events: dict[int, list[bytes]] = {}
        self.results: list[CommandResult] = []
        self.fail_publishing = False

    async def publish_events(self, partition: int, items: Sequence[tuple[str, bytes]]) -> list[int]:
        if self.fail_publishing:
            raise ConnectionError("broker unavailable")
        log = self.events.setdefault(partition, [])
        start = len(log)
        log.extend(value for _, value in items)
        return list(range(start, len(log)))

    async def publish_results(self, items: Sequence[tuple[str, bytes]]) -> None:
        self.results.extend(decode_result(value) for _, value in items)

    async def read_events(self, partition: int, start: int) -> list[tuple[int, bytes]]:
        return list(enumerate(self.events.get(partition, [])))[start:]

    def answer(self, command_id: str) -> CommandResult:
        (result,) = [r for r in self.results if r.command_id == command_id][-1:]
        return result


CASE = CaseId("K-1")


def report(command_id: str = "report-1") -> bytes:
    cmd = c.ReportAllegation(CASE, AllegationType.SEXUAL_EXPLOITATION, "MONUSCO")
    return encode_command(command(cmd, command_id=command_id))


def identify(nationality: str = "ZAF", command_id: str = "identify-1") -> bytes:
    cmd = c.IdentifyAllegedPerpetrator(
        CASE, PersonnelCategory.MILITARY_MC, CountryCode(nationality), Sex.MALE
    )
    return encode_command(command(cmd, at=T0 + timedelta(hours=1), command_id=command_id))


def incoming(*values: bytes, partition: int = 0) -> list[IncomingCommand]:
    return [IncomingCommand(partition, offset, v) for offset, v in enumerate(values)]


def run(decider: Decider, *values: bytes) -> None:
    asyncio.run(decider.handle(incoming(*values)))


def archived(engine: Engine) -> list[tuple[int, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_archive.c.sequence, audit_archive.c.log_offset).order_by(
                audit_archive.c.sequence
            )
        )
        return [(s, o) for s, o in rows]


def test_accepted_events_reach_the_log_and_the_archive_before_the_answer(engine: Engine) -> None:
    log = MemoryLog()
    decider = Decider(engine, log)

    run(decider, report(), identify())

    assert [r.status for r in log.results] == ["accepted", "accepted"]
    assert log.answer("identify-1").positions[0].offset == 1
    assert archived(engine) == [(1, 0), (2, 1)]
    head = StreamHead()
    for raw in log.events[0]:
        head = verify_link(raw, head).head
    assert head.sequence == 2
    assert head.hash != GENESIS_HASH


def test_a_retried_command_gets_the_same_answer_and_no_new_event(engine: Engine) -> None:
    log = MemoryLog()
    decider = Decider(engine, log)
    run(decider, report())
    first = log.answer("report-1")

    run(decider, report())  # the client did not see the answer and sent it again
    fresh = Decider(engine, log)  # and again, to a decider that just started
    run(fresh, report())

    assert [r for r in log.results if r.command_id == "report-1"] == [first, first, first]
    assert len(log.events[0]) == 1


def test_the_same_command_twice_in_one_batch_is_decided_once(engine: Engine) -> None:
    log = MemoryLog()

    run(Decider(engine, log), report(), report())

    assert len(log.events[0]) == 1
    assert [r.status for r in log.results] == ["accepted", "accepted"]


def test_a_command_id_reused_for_another_command_is_rejected(engine: Engine) -> None:
    log = MemoryLog()
    decider = Decider(engine, log)
    run(decider, report())

    run(decider, identify(command_id="report-1"))

    rejected = log.results[-1]
    assert rejected.status == "rejected"
    assert rejected.rejection is not None
    assert rejected.rejection.code == "COMMAND_ID_REUSED"
    assert len(log.events[0]) == 1


def test_a_rejection_is_remembered_and_changes_nothing(engine: Engine) -> None:
    log = MemoryLog()
    decider = Decider(engine, log)

    run(decider, identify())  # before the allegation was reported

    (answer,) = log.results
    assert answer.status == "rejected"
    assert answer.rejection is not None
    assert (answer.rejection.code, answer.rejection.field) == ("CASE_NOT_FOUND", "case_id")
    assert archived(engine) == []
    with engine.connect() as conn:
        assert archive.find_results(conn, ["identify-1"])["identify-1"].result == answer


def test_an_undecodable_command_is_rejected_when_it_names_its_id(engine: Engine) -> None:
    log = MemoryLog()
    bad = json.dumps({"command_id": "x-1", "stream_id": "case:K-1", "type": "Nope"}).encode()

    run(Decider(engine, log), bad, b"\xff not json at all")

    (answer,) = log.results
    assert answer.rejection is not None
    assert (answer.command_id, answer.rejection.code) == ("x-1", "INVALID_COMMAND")


def test_a_command_without_a_readable_stream_gets_an_answer_the_api_can_read(
    engine: Engine,
) -> None:
    log = MemoryLog()
    sent = encode_command(command(c.RetractEvent(StreamId(""), "e", "r"), command_id="retract-1"))

    run(Decider(engine, log), sent)

    (answer,) = log.results
    assert decode_result(encode_result(answer)) == answer
    assert answer.rejection is not None
    assert (answer.stream_id, answer.rejection.field) == ("", "stream_id")


def test_events_decided_but_not_published_are_published_before_anything_else(
    engine: Engine,
) -> None:
    log = MemoryLog()
    crashed = Decider(engine, log)
    log.fail_publishing = True
    with pytest.raises(ConnectionError):
        run(crashed, report())
    assert archived(engine) == [(1, None)]  # written ahead, not yet in the log
    assert log.results == []  # and never answered

    log.fail_publishing = False
    restarted = Decider(engine, log)
    run(restarted, identify())

    assert archived(engine) == [(1, 0), (2, 1)]
    assert [r.command_id for r in log.results] == ["report-1", "identify-1"]
    assert all(r.status == "accepted" for r in log.results)


def test_an_event_already_in_the_log_is_not_published_twice(engine: Engine) -> None:
    log = MemoryLog()
    run(Decider(engine, log), report())
    with engine.begin() as conn:  # the crash came after the publish, before the offset
        conn.execute(audit_archive.update().values(log_offset=None))

    recovering = Decider(engine, log)
    recovering.partitions_assigned({0})
    asyncio.run(recovering.reconcile_assigned())

    assert len(log.events[0]) == 1
    assert archived(engine) == [(1, 0)]


def test_a_member_state_acting_on_another_states_case_is_rejected(engine: Engine) -> None:
    log = MemoryLog()
    decider = Decider(engine, log)
    run(decider, report(), identify("ZAF"))
    notify = command(c.NotifyMemberState(CASE, CountryCode("ZAF")), at=T0 + timedelta(days=1))
    reply = command(
        c.ReplyIntentToInvestigate(CASE, CountryCode("ZAF")),
        actor=state_actor("BRA"),
        at=T0 + timedelta(days=2),
        command_id="reply-1",
    )

    run(decider, encode_command(notify), encode_command(reply))

    answer = log.answer("reply-1")
    assert answer.rejection is not None
    assert answer.rejection.code == "FORBIDDEN_MEMBER_STATE"
    assert archived(engine) == [(1, 0), (2, 1), (3, 2)]  # the notification, not the reply
