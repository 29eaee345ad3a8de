"""The UN-style statistics add up the way the UN's quarterly updates do (SQLite).

Each example builds its own allegations (several categories of personnel and
contributing countries, victims and alleged perpetrators of every group, referrals,
an allegation with nobody identified yet) and says, from its own description and not
from the read models, what every table must hold: each allegation counted once per
category of personnel and per contributing country, every table adding up to its
total, and the four quarters adding up, row by row, to the year.
"""

import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.domain import Log, command
from support.read_models import apply

from accountability.events import commands as c
from accountability.events.types import CaseId, CountryCode
from accountability.events.vocabulary import AgeGroup, AllegationType, PersonnelCategory, Sex
from accountability.projections import statistics as stats
from accountability.projections.casefold import perpetrator_group, victim_group
from accountability.services import db

NOW = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = 2024
MISSIONS = ["MINUSCA", "MONUSCO", "UNMISS"]
STATES = ["GAB", "RWA", "NPL", "BGD"]
UNIT_TABLES = (
    "entity", "mission", "category", "nationality", "type", "incident_year", "status",
    "referred_to_member_state",
)  # fmt: skip

AGE_ROWS = {AgeGroup.ADULT: "adults", AgeGroup.CHILD: "children", AgeGroup.UNKNOWN: "age unknown"}

PROPERTIES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Person:
    category: PersonnelCategory
    nationality: str
    sex: Sex


@dataclass(frozen=True)
class Allegation:
    case_id: str
    received: datetime
    mission: str
    kind: AllegationType
    incident: date | None
    perpetrators: tuple[Person, ...]
    victims: tuple[tuple[AgeGroup, Sex], ...]
    notified: frozenset[str]

    def units(self) -> set[tuple[str, str]]:
        """(category, contributing country): what the UN counts, from this description."""
        if not self.perpetrators:
            return {("unknown", "not applicable")}
        return {
            (p.category.value, p.nationality if p.category.uniformed else "not applicable")
            for p in self.perpetrators
        }


@st.composite
def allegations(draw: st.DrawFn) -> list[Allegation]:
    found = []
    for n in range(draw(st.integers(1, 6))):
        received = datetime(YEAR, 1, 1, 8, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 365)))
        people = draw(st.lists(st.builds(
            Person, st.sampled_from(list(PersonnelCategory)), st.sampled_from(STATES),
            st.sampled_from(list(Sex)),
        ), max_size=4))  # fmt: skip
        uniformed = sorted({p.nationality for p in people if p.category.uniformed})
        before = draw(st.one_of(st.none(), st.integers(0, 900)))
        found.append(Allegation(
            case_id=f"Q-{n}",
            received=received,
            mission=draw(st.sampled_from(MISSIONS)),
            kind=draw(st.sampled_from(list(AllegationType))),
            incident=None if before is None else received.date() - timedelta(days=before),
            perpetrators=tuple(people),
            victims=tuple(draw(st.lists(st.tuples(
                st.sampled_from(list(AgeGroup)), st.sampled_from(list(Sex))
            ), max_size=4))),
            notified=frozenset(draw(st.lists(st.sampled_from(uniformed), unique=True))
                               if uniformed else []),
        ))  # fmt: skip
    return found


def record(allegations: list[Allegation]) -> Log:
    log = Log(now=NOW)
    for a in allegations:
        cid, at = CaseId(a.case_id), a.received
        log.submit(command(c.ReportAllegation(cid, a.kind, a.mission, a.incident), at=at))
        for p in a.perpetrators:
            log.submit(command(c.IdentifyAllegedPerpetrator(
                cid, p.category, CountryCode(p.nationality), p.sex
            ), at=at))  # fmt: skip
        for age, sex in a.victims:
            log.submit(command(c.RecordVictim(cid, age, sex), at=at))
        for state in sorted(a.notified):
            log.submit(command(c.NotifyMemberState(cid, CountryCode(state)), at=at))
    return log


def expected(allegations: list[Allegation]) -> dict[str, Counter[str]]:
    """Every table as the test's own description of the allegations says it must be."""
    tables: dict[str, Counter[str]] = {name: Counter() for name in UNIT_TABLES}
    victims: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    perpetrators: Counter[str] = Counter()
    for a in allegations:
        for category, nationality in a.units():
            tables["entity"]["peacekeeping"] += 1
            tables["mission"][a.mission] += 1
            tables["category"][category] += 1
            tables["nationality"][nationality] += 1
            tables["type"][a.kind.value] += 1
            tables["incident_year"][str(a.incident.year) if a.incident else "unknown"] += 1
            status = "Under preliminary assessment" if a.perpetrators else (
                "Under review – limited information"  # noqa: RUF001 - the UN's dash
            )  # fmt: skip
            tables["status"][status] += 1
            tables["referred_to_member_state"]["yes" if nationality in a.notified else "no"] += 1
        victims.update(victim_group(age.value, sex.value) for age, sex in a.victims)
        ages.update(AGE_ROWS[age] for age, _ in a.victims)
        perpetrators.update(perpetrator_group(p.sex.value) for p in a.perpetrators)
    tables["victims"] = victims
    tables["victims_by_age"] = ages
    tables["alleged_perpetrators"] = perpetrators
    return tables


def released(log: Log, periods: list[tuple[datetime, datetime]]) -> list[stats.Statistics]:
    with tempfile.TemporaryDirectory() as directory:
        engine = db.create(f"sqlite:///{Path(directory) / 'stats.db'}")
        db.create_schema(engine)
        apply(engine, log.records)
        with engine.connect() as conn:
            answers = [stats.statistics(conn, start, end, NOW) for start, end in periods]
        engine.dispose()
    return answers


def rows(table: stats.Table) -> Counter[str]:
    return Counter({row.key: row.count for row in table.rows if row.count})


_STARTS = [datetime(YEAR, month, 1, tzinfo=UTC) for month in (1, 4, 7, 10)]
QUARTERS = list(zip(_STARTS, [*_STARTS[1:], datetime(YEAR + 1, 1, 1, tzinfo=UTC)], strict=True))


@PROPERTIES
@given(allegations())
def test_every_table_holds_the_uns_counting_unit_and_the_quarters_add_up_to_the_year(
    allegations: list[Allegation],
) -> None:
    year_period = (datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 1, tzinfo=UTC))
    year, *quarters = released(record(allegations), [year_period, *QUARTERS])
    want = expected(allegations)

    assert year.allegations == sum(len(a.units()) for a in allegations)
    assert year.cases == len(allegations)
    for name, counts in want.items():
        assert rows(year.table(name)) == +counts, name
    for name in UNIT_TABLES:
        assert year.table(name).total == year.allegations, name
    assert year.table("victims_by_age").total == year.table("victims").total
    # The quarterly updates add up to the year, table by table and row by row.
    assert sum(q.allegations for q in quarters) == year.allegations
    assert sum(q.cases for q in quarters) == year.cases
    for table in year.tables:
        assert sum((rows(q.table(table.name)) for q in quarters), Counter()) == rows(table), (
            table.name
        )


def test_an_allegation_with_nobody_identified_yet_is_counted() -> None:
    """The UN counts it under review (limited information), of unknown category."""
    received = datetime(YEAR, 2, 1, tzinfo=UTC)
    alone = Allegation("Q-0", received, "MINUSCA", AllegationType.SEXUAL_ABUSE, None, (), (),
                       frozenset())  # fmt: skip
    (year,) = released(record([alone]), [(received, received + timedelta(days=1))])

    assert (year.cases, year.allegations) == (1, 1)
    assert rows(year.table("category")) == Counter({"unknown": 1})
    assert rows(year.table("status")) == Counter({"Under review – limited information": 1})  # noqa: RUF001
