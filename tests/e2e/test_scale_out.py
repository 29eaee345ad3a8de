"""Scale-out end to end: three worker processes share the partitions; one is killed.

A heavy concurrent stream of commands goes through the command bus while a worker is
SIGKILLed; the other two take over its partitions after a rebalance (the group notices
within the 6 s session timeout). Every command must be answered, each decided once;
the read models must equal a clean rebuild from the broker's log, with every event
applied exactly once, and the API must say so in its metrics and its answers.
"""

import asyncio
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from support.net import free_port
from support.read_models import snapshot

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope
from accountability.events.types import CaseId, CommandId, CountryCode
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    PersonnelCategory,
    Role,
    Sex,
)
from accountability.events.wire import CommandResult
from accountability.projections import all_projections
from accountability.projections.audit_log import audit_anomalies, audit_log
from accountability.projections.dead_letters import dead_letters
from accountability.services import db
from accountability.services.api.bus import CommandBus, NotConfirmed
from accountability.services.demo import wait_for_read_models
from accountability.services.rebuild import rebuild_into
from accountability.services.settings import Secret, Settings
from accountability.services.stack import EmbeddedStack
from accountability.services.store import audit_archive, command_results

pytestmark = [pytest.mark.slow, pytest.mark.broker]

STREAMS = 300
PARTITIONS = 6
WORKERS = 3
OFFICER = Actor("scale-officer", Role.OFFICER)


def scale_settings(data_dir: Path) -> Settings:
    return replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=Secret(f"sqlite:///{data_dir / 'accountability.db'}"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        worker_id=f"accountability-scale-{uuid.uuid4().hex[:8]}",
        topic_partitions=PARTITIONS,
        workers=WORKERS,
        command_timeout_seconds=4.0,
    )


def case_commands(case_id: str) -> list[CommandEnvelope]:
    base = datetime(2024, 6, 1, 8, tzinfo=UTC)
    cid = CaseId(case_id)
    steps: list[c.Command] = [
        c.ReportAllegation(cid, AllegationType.SEXUAL_EXPLOITATION, "UNMISS"),
        c.IdentifyAllegedPerpetrator(cid, PersonnelCategory.POLICE_FPU, CountryCode("BGD"),
                                     Sex.MALE),
        c.RecordVictim(cid, AgeGroup.CHILD, Sex.FEMALE),
        c.NotifyMemberState(cid, CountryCode("BGD")),
    ]  # fmt: skip
    return [
        CommandEnvelope(
            CommandId(f"{case_id}/{n}"), "scale", OFFICER, base, base + timedelta(hours=n), step
        )
        for n, step in enumerate(steps)
    ]


class Submitter:
    """Submits every stream concurrently, in order within a stream; resends on no answer."""

    def __init__(self, bus: CommandBus, streams: list[list[CommandEnvelope]]) -> None:
        self.bus = bus
        self.streams = streams
        self.answers: dict[str, list[CommandResult]] = defaultdict(list)
        self.resent = 0
        self.errors: list[BaseException] = []
        self.done = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._all())
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            self.done.set()

    async def _all(self) -> None:
        await asyncio.gather(*(self._one(stream) for stream in self.streams))

    async def _one(self, stream: list[CommandEnvelope]) -> None:
        for command in stream:
            while True:
                try:
                    result = await self.bus.submit(command)
                except NotConfirmed:
                    self.resent += 1
                    continue  # a worker is down or the group is rebalancing: same command id
                self.answers[command.command_id].append(result)
                break


def commands_owned(worker_log: Path) -> list[int]:
    """The command partitions a worker last said it owned (its log's assignment line)."""
    lines = [ln for ln in worker_log.read_text().splitlines() if "owns partitions:" in ln]
    assert lines, f"{worker_log.name} never logged an assignment"
    listed = lines[-1].split("commands [", 1)[1].split("]", 1)[0]
    return [int(p) for p in listed.split(",") if p.strip()]


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_three_workers_share_the_partitions_and_survive_losing_one_mid_stream(
    tmp_path: Path,
) -> None:
    settings = scale_settings(tmp_path / "data")
    streams = [case_commands(f"S-{n:03d}") for n in range(STREAMS)]
    commands = [command for stream in streams for command in stream]
    started = time.monotonic()
    with EmbeddedStack(settings) as stack:
        assert [w.alive() for w in stack.workers] == [True] * WORKERS
        bus = CommandBus(settings)
        bus.start()
        submitter = Submitter(bus, streams)
        thread = threading.Thread(target=submitter.run)
        thread.start()
        time.sleep(2.0)
        victim = stack.workers[1]
        owned = commands_owned(victim.log_path)
        victim.kill()  # SIGKILL mid-stream; nobody restarts it
        thread.join(timeout=300)
        bus.stop()
        took = time.monotonic() - started

        assert submitter.done.is_set(), "not every command was answered within 300 s"
        assert submitter.errors == []
        assert not victim.alive()
        assert owned, "the killed worker owned no command partition: nothing to take over"
        assert [w.alive() for w in stack.workers] == [True, False, True]
        # Every command answered, each decided once: one event, the same answer every time.
        assert set(submitter.answers) == {command.command_id for command in commands}
        for command_id, answers in submitter.answers.items():
            assert {a.status for a in answers} == {"accepted"}, command_id
            assert len({a.event_ids for a in answers}) == 1, command_id
        assert stack.engine is not None
        engine = stack.engine
        assert wait_for_read_models(engine)
        with engine.connect() as conn:
            archived = conn.execute(select(func.count()).select_from(audit_archive)).scalar()
            pending = conn.execute(
                select(func.count()).where(audit_archive.c.log_offset.is_(None))
            ).scalar()
            decided = conn.execute(select(func.count()).select_from(command_results)).scalar()
            logged = conn.execute(select(func.count()).select_from(audit_log)).scalar()
            chains = set(conn.execute(select(audit_log.c.chain_valid)).scalars())
            anomalies = conn.execute(select(func.count()).select_from(audit_anomalies)).scalar()
            letters = conn.execute(select(func.count()).select_from(dead_letters)).scalar()
        assert (archived, pending, decided) == (len(commands), 0, len(commands))
        assert (logged, anomalies, letters) == (archived, 0, 0)
        assert chains == {True}

        # The read models equal a clean rebuild from the broker's log.
        live = snapshot(engine)
        assert stack.broker is not None
        clean = db.create(f"sqlite:///{tmp_path / 'clean.db'}")
        db.create_schema(clean)
        rebuild_into(clean, stack.broker.bootstrap, PARTITIONS)
        assert snapshot(clean) == live
        clean.dispose()

        # The API says so: lag 0, each event applied once, every answer's freshness.
        found = scrape(stack.url)
        answer = httpx.post(
            f"{stack.url}/graphql", json={"query": "{ deadlinePolicies { label } }"}, timeout=30
        ).json()

    for projection in (p.name for p in all_projections()):
        labels = (("projection", projection),)
        assert found["accountability_projection_lag_seconds", labels] == 0
        assert found["accountability_projection_events_applied_total", labels] == len(commands)
        for partition in range(PARTITIONS):
            key = (("partition", str(partition)), ("projection", projection))
            assert found["accountability_projection_lag_events", key] == 0
    assert found["accountability_commands_accepted_total", ()] == len(commands)
    freshness = answer["extensions"]["freshness"]
    assert set(freshness) == {p.name for p in all_projections()}
    offsets = sum(p["offset"] for p in freshness["audit_log"]["partitions"].values())
    assert offsets == len(commands)
    print(  # the run's figures, shown with -s
        f"\n{len(commands)} commands over {WORKERS} workers, one killed: {took:.1f}s, "
        f"{submitter.resent} resent after no answer"
    )
