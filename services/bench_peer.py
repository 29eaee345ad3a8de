"""The peer comparison: the same workload with the Python ``eventsourcing`` library.

Workload: append the events of N cases (report, alleged perpetrator, victim,
notification, reply, investigation opened and concluded, and a sanction where the
finding was substantiated), then build each country's follow-up record from all of
them. ``eventsourcing`` does it its canonical way: an Application that loads the
aggregate, calls a method and saves, once per command, then a fold over the
application's notification log. This product does it its own way: commands through
the broker to the decider (archive, log, answer), then a rebuild of the read models
from offset 0 and the country record query. Both on SQLite and on PostgreSQL.
"""

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy.engine import make_url

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope
from accountability.events.policy import DEFAULT_POLICY
from accountability.events.types import CaseId, CommandId, CountryCode
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    Role,
    SanctionAuthority,
    SanctionKind,
    Sex,
)
from accountability.projections.country_record import country_records

from . import db
from .rebuild import rebuild_into

STATES = ("RWA", "BGD", "PAK", "IND", "NPL", "EGY", "MAR", "GAB", "ZAF", "TZA", "SEN", "URY")
_NAMESPACE = UUID("3f1c2a9e-7b7e-4f0a-9c3d-2a5b8f0e6d41")


@dataclass(frozen=True, slots=True)
class PeerCase:
    """One case of the workload, drawn once and replayed by both systems."""

    case_id: str
    nationality: str
    received: datetime
    reply_days: int | None
    substantiated: bool


def workload(cases: int, seed: int = 11, prefix: str = "PEER") -> list[PeerCase]:
    rng = random.Random(seed)
    start = datetime(2023, 1, 2, 9, tzinfo=UTC)
    return [
        PeerCase(
            case_id=f"{prefix}-{n:06d}",
            nationality=rng.choice(STATES),
            received=start + timedelta(hours=rng.randint(0, 24 * 600)),
            reply_days=rng.choice([None, 3, 8, 15, 40]),
            substantiated=rng.random() < 0.45,
        )
        for n in range(cases)
    ]


def events_per_case(case: PeerCase) -> int:
    return 4 + (3 + int(case.substantiated) if case.reply_days is not None else 0)


# --- eventsourcing's side --------------------------------------------------------------


class Case(Aggregate):
    """The same case as an eventsourcing aggregate: one method per command."""

    @staticmethod
    def create_id(case_id: str, **_: Any) -> UUID:
        """A stable id from the case id, as this product keys a stream."""
        return uuid5(_NAMESPACE, case_id)

    @event("Reported")
    def __init__(self, case_id: str, mission: str, received: datetime) -> None:
        self.case_id, self.mission, self.received = case_id, mission, received
        self.nationality: str | None = None
        self.notified: datetime | None = None
        self.replied: datetime | None = None
        self.finding: str | None = None
        self.sanctioned = False
        self.victims = 0

    @event("PerpetratorIdentified")
    def identify(self, nationality: str, category: str) -> None:
        self.nationality = nationality

    @event("VictimRecorded")
    def record_victim(self, age_group: str, sex: str) -> None:
        self.victims += 1

    @event("Notified")
    def notify(self, member_state: str, at: datetime) -> None:
        self.notified = at

    @event("Replied")
    def reply(self, at: datetime) -> None:
        self.replied = at

    @event("InvestigationOpened")
    def open_investigation(self, entity: str, at: datetime) -> None:
        pass

    @event("InvestigationConcluded")
    def conclude(self, finding: str, at: datetime) -> None:
        self.finding = finding

    @event("SanctionImposed")
    def sanction(self, kind: str, at: datetime) -> None:
        self.sanctioned = True


def _case_uuid(case_id: str) -> UUID:
    return Case.create_id(case_id)


class Cases(Application[UUID]):
    """Commands as eventsourcing applications take them: get, act, save."""

    def report(self, case: PeerCase) -> None:
        self.save(Case(case_id=case.case_id, mission="MINUSCA", received=case.received))

    def step(self, case_id: str, action: str, **kwargs: Any) -> None:
        aggregate: Case = self.repository.get(_case_uuid(case_id))
        if action == "reply" and aggregate.notified is None:
            raise ValueError("a reply before the notification")
        getattr(aggregate, action)(**kwargs)
        self.save(aggregate)


def _peer_commands(case: PeerCase) -> Iterator[tuple[str, dict[str, Any]]]:
    notified = case.received + timedelta(days=2)
    yield "identify", {"nationality": case.nationality, "category": "MC"}
    yield "record_victim", {"age_group": "adult", "sex": "female"}
    yield "notify", {"member_state": case.nationality, "at": notified}
    if case.reply_days is None:
        return
    replied = notified + timedelta(days=case.reply_days)
    yield "reply", {"at": replied}
    yield "open_investigation", {"entity": "NIO", "at": replied}
    finding = "substantiated" if case.substantiated else "not_substantiated"
    yield "conclude", {"finding": finding, "at": replied + timedelta(days=90)}
    if case.substantiated:
        yield "sanction", {"kind": "dismissal", "at": replied + timedelta(days=100)}


def eventsourcing_append(app: Cases, cases: list[PeerCase]) -> float:
    started = time.perf_counter()
    for case in cases:
        app.report(case)
        for action, kwargs in _peer_commands(case):
            app.step(case.case_id, action, **kwargs)
    return time.perf_counter() - started


def eventsourcing_country_record(
    app: Cases, now: datetime
) -> tuple[dict[str, dict[str, int]], float]:
    """The country record folded from the whole notification log, as a projection would."""
    started = time.perf_counter()
    records: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    nationality: dict[UUID, str] = {}
    notified: dict[UUID, datetime] = {}
    substantiated: set[UUID] = set()
    position = 1
    while True:
        page = app.recorder.select_notifications(start=position, limit=1000)
        if not page:
            break
        for notification in page:
            domain_event: Any = app.mapper.to_domain_event(notification)
            name = type(domain_event).__name__
            case = domain_event.originator_id
            if name == "PerpetratorIdentified":
                nationality[case] = domain_event.nationality
                records[domain_event.nationality]["allegations"] += 1
            elif name == "Notified":
                notified[case] = domain_event.at
                records[nationality[case]]["notifications"] += 1
            elif name == "Replied":
                late = domain_event.at > notified[case] + timedelta(days=10)
                records[nationality[case]]["replies_late" if late else "replies_on_time"] += 1
            elif name == "InvestigationConcluded" and domain_event.finding == "substantiated":
                substantiated.add(case)
                records[nationality[case]]["substantiated"] += 1
            elif name == "SanctionImposed" and case in substantiated:
                records[nationality[case]]["substantiated_with_outcome"] += 1
        position = page[-1].id + 1
    return {k: dict(v) for k, v in records.items()}, time.perf_counter() - started


# --- this product's side -------------------------------------------------------------


OFFICER = Actor("peer-officer", Role.OFFICER)


def product_commands(case: PeerCase) -> list[CommandEnvelope]:
    """The same workload as this product's commands, in order, with stable ids."""
    cid = CaseId(case.case_id)
    ms = CountryCode(case.nationality)
    notified = case.received + timedelta(days=2)
    steps: list[tuple[datetime, c.Command]] = [
        (case.received, c.ReportAllegation(cid, AllegationType.SEXUAL_ABUSE, "MINUSCA")),
        (case.received, c.IdentifyAllegedPerpetrator(cid, PersonnelCategory.MILITARY_MC, ms,
                                                      Sex.MALE)),
        (case.received, c.RecordVictim(cid, AgeGroup.ADULT, Sex.FEMALE)),
        (notified, c.NotifyMemberState(cid, ms)),
    ]  # fmt: skip
    if case.reply_days is not None:
        replied = notified + timedelta(days=case.reply_days)
        finding = Finding.SUBSTANTIATED if case.substantiated else Finding.NOT_SUBSTANTIATED
        steps += [
            (replied, c.ReplyIntentToInvestigate(cid, ms)),
            (replied, c.OpenInvestigation(cid, InvestigatingEntity.OIOS, None, False, "I1")),
            (replied + timedelta(days=90), c.ConcludeInvestigation(cid, "I1", finding, True)),
        ]
        if case.substantiated:
            steps.append((
                replied + timedelta(days=100),
                c.ImposeSanction(cid, "P1", SanctionKind.DISMISSAL,
                                 SanctionAuthority.UNITED_NATIONS),
            ))  # fmt: skip
    return [
        CommandEnvelope(CommandId(f"{case.case_id}/{n}"), case.case_id, OFFICER, at, at, command)
        for n, (at, command) in enumerate(steps)
    ]


# --- the comparison --------------------------------------------------------------------

COMPARED = ("allegations", "notifications", "substantiated", "substantiated_with_outcome")
"""Figures both sides compute the same way, checked equal after every run."""


@dataclass(frozen=True, slots=True)
class PeerRun:
    """One run of the workload by both systems on one database."""

    commands: int
    eventsourcing_append: float
    eventsourcing_build: float
    product_append: float
    product_build: float


def eventsourcing_app(database: str, url_or_path: str) -> Cases:
    """The peer's application on SQLite (a file) or PostgreSQL (a database URL)."""
    if database == "sqlite":
        return Cases(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                          "SQLITE_DBNAME": url_or_path})  # fmt: skip
    parsed = make_url(url_or_path)
    return Cases(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.database or "postgres",
            "POSTGRES_HOST": parsed.host or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": parsed.username or "postgres",
            "POSTGRES_PASSWORD": parsed.password or "",
        }
    )


def product_country_records(
    url: str, bootstrap: str, partitions: int
) -> tuple[dict[str, dict[str, int]], float]:
    """Every read model rebuilt from offset 0 into ``url``, then every country's record."""
    started = time.perf_counter()
    engine = db.create(url)
    try:
        db.create_schema(engine)
        rebuild_into(engine, bootstrap, partitions)
        with engine.connect() as conn:
            records = country_records(conn, DEFAULT_POLICY, datetime.now(UTC))
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    return {code: dict(record.figures) for code, record in records.items()}, seconds


def check_same(ours: dict[str, dict[str, int]], theirs: dict[str, dict[str, int]]) -> None:
    """Both systems must have computed the same record, or the comparison means nothing."""
    for code in sorted(set(ours) | set(theirs)):
        for name in COMPARED:
            mine = ours.get(code, {}).get(name, 0)
            peer = theirs.get(code, {}).get(name, 0)
            if mine != peer:
                raise RuntimeError(
                    f"the peer comparison disagrees on {code} {name}: {mine} here, {peer} there"
                )
