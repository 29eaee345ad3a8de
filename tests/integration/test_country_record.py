"""The country record's investigation timeliness, median days, paternity claims and
counts by category: each figure with the cases behind it, in SQL and over GraphQL.
The same tests run against SQLite and PostgreSQL."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from support.domain import Log, command, state_actor
from support.read_models import apply

from accountability.events import commands as c
from accountability.events.commands import Actor
from accountability.events.policy import DEFAULT_POLICY
from accountability.events.types import CaseId, CountryCode
from accountability.events.vocabulary import (
    AllegationType,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    Role,
    Sex,
)
from accountability.graphql.context import RequestContext, current_actor
from accountability.graphql.schema import build_schema
from accountability.projections import country_record as cr
from accountability.projections import statistics as st
from accountability.services.api.submit import SqlReader

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OFFICER = Actor("officer-1", Role.OFFICER)


def un_case(
    log: Log, case_id: str, *, opened: datetime, days: int | None, state: str = "NPL"
) -> None:
    """A case of ``state``'s contingent that the UN (OIOS) investigates itself."""
    cid, ms = CaseId(case_id), CountryCode(state)
    log.submit(command(c.ReportAllegation(cid, AllegationType.SEXUAL_EXPLOITATION, "MONUSCO"),
                       at=opened - timedelta(days=3)))  # fmt: skip
    log.submit(command(
        c.IdentifyAllegedPerpetrator(cid, PersonnelCategory.MILITARY_MC, ms, Sex.MALE),
        at=opened - timedelta(days=3),
    ))  # fmt: skip
    log.submit(command(c.NotifyMemberState(cid, ms), at=opened - timedelta(days=2)))
    log.submit(command(
        c.DeclineToInvestigate(cid, ms), actor=state_actor(state), at=opened - timedelta(days=1)
    ))  # fmt: skip
    log.submit(command(
        c.OpenInvestigation(cid, InvestigatingEntity.OIOS, investigation_id="I1"), at=opened
    ))  # fmt: skip
    if days is not None:
        log.submit(command(
            c.ConcludeInvestigation(cid, "I1", Finding.NOT_SUBSTANTIATED, victims_interviewed=True),
            at=opened + timedelta(days=days),
        ))  # fmt: skip


@pytest.fixture
def log() -> Log:
    log = Log(now=NOW)
    un_case(log, "U-1", opened=datetime(2024, 1, 10, tzinfo=UTC), days=100)  # on time
    un_case(log, "U-2", opened=datetime(2024, 1, 10, tzinfo=UTC), days=250)  # late
    un_case(log, "U-3", opened=datetime(2024, 1, 10, tzinfo=UTC), days=130)  # on time
    un_case(log, "U-4", opened=datetime(2024, 1, 10, tzinfo=UTC), days=None)  # overdue
    un_case(log, "U-5", opened=NOW - timedelta(days=20), days=None)  # running
    # A state's own investigations: Log.case concludes them 90 days after opening.
    log.case("S-1", "NPL", at=datetime(2023, 5, 1, tzinfo=UTC))
    log.case("S-2", "NPL", at=datetime(2023, 6, 1, tzinfo=UTC), substantiated=False)
    # A formed police unit of the same state, beside its contingent, in S-1.
    log.submit(command(c.IdentifyAllegedPerpetrator(
        CaseId("S-1"), PersonnelCategory.POLICE_FPU, CountryCode("NPL"), Sex.MALE
    ), at=datetime(2023, 5, 1, 3, tzinfo=UTC)))  # fmt: skip
    for claim, established in (("C1", True), ("C2", False)):
        log.submit(command(c.FilePaternityClaim(CaseId("S-1"), "P1", claim),
                           at=datetime(2024, 3, 1, tzinfo=UTC)))  # fmt: skip
        if established:
            log.submit(command(c.EstablishPaternity(CaseId("S-1"), claim),
                               at=datetime(2024, 9, 1, tzinfo=UTC)))  # fmt: skip
    return log


def test_un_investigations_are_met_missed_or_running_and_each_lists_its_cases(
    engine: Engine, log: Log
) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        record = cr.country_records(conn, DEFAULT_POLICY, NOW, codes=["NPL"])["NPL"]
        behind = {
            figure: cr.cases_behind(conn, "NPL", figure, DEFAULT_POLICY, NOW)
            for figure in cr.FIGURES
        }

    assert behind["un_investigations_on_time"] == ["U-1", "U-3"]
    assert behind["un_investigations_late"] == ["U-2"]
    assert behind["un_investigations_overdue"] == ["U-4"]
    assert behind["un_investigations_running"] == ["U-5"]
    for figure in cr.COUNTS:
        assert len(behind[figure]) == record.figures[figure], figure
    assert behind["paternity_open"] == ["S-1"]
    assert (record.figures["paternity_claims"], record.figures["paternity_open"]) == (2, 1)


def test_median_days_of_concluded_investigations_by_the_state_and_by_the_un(
    engine: Engine, log: Log
) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        record = cr.country_records(conn, DEFAULT_POLICY, NOW, codes=["NPL"])["NPL"]
        early = cr.country_records(
            conn, DEFAULT_POLICY, NOW, codes=["NPL"], as_of=datetime(2023, 1, 1, tzinfo=UTC)
        )["NPL"]

    assert record.un_investigation_median_days == 130.0  # of 100, 130 and 250
    assert record.state_investigation_median_days == 90.0
    assert (early.un_investigation_median_days, early.state_investigation_median_days) == (
        None, None,
    )  # fmt: skip


def test_an_even_count_of_investigations_takes_the_mean_of_the_middle_two_per_country(
    engine: Engine, log: Log
) -> None:
    for number, days in enumerate((10, 40, 20, 90)):
        opened = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)  # late in the day: whole dates count
        un_case(log, f"B-{number}", opened=opened, days=days, state="BGD")
    apply(engine, log.records)

    with engine.connect() as conn:
        records = cr.country_records(conn, DEFAULT_POLICY, NOW)

    assert records["BGD"].un_investigation_median_days == 30.0  # of 20 and 40
    assert records["NPL"].un_investigation_median_days == 130.0  # its own, beside BGD's
    assert records["BGD"].state_investigation_median_days is None


def test_each_count_by_category_lists_its_cases(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        record = cr.country_records(conn, DEFAULT_POLICY, NOW, codes=["NPL"])["NPL"]
        behind = {
            category: cr.cases_behind(
                conn, "NPL", "allegations", DEFAULT_POLICY, NOW, category=category
            )
            for category in record.categories
        }
        substantiated_fpu = cr.cases_behind(
            conn, "NPL", "substantiated", DEFAULT_POLICY, NOW, category="FPU"
        )

    assert record.categories == {"MC": 7, "FPU": 1}
    assert {k: len(v) for k, v in behind.items()} == record.categories
    assert behind["FPU"] == ["S-1"]
    assert substantiated_fpu == ["S-1"]


def graphql(engine: Engine, query: str) -> dict[str, Any]:
    no_submitter: Any = None
    context = RequestContext(SqlReader(engine), no_submitter, DEFAULT_POLICY, lambda: NOW)
    token = current_actor.set(OFFICER)
    try:
        result = asyncio.run(build_schema().execute_async(query, context_value=context))
    finally:
        current_actor.reset(token)
    assert not result.errors, result.errors
    data: dict[str, Any] | None = result.data
    assert data is not None
    return data


def test_the_api_gives_the_new_figures_and_the_cases_behind_a_category(
    engine: Engine, log: Log
) -> None:
    apply(engine, log.records)

    data = graphql(engine, """{
      country(code: "NPL") {
        investigations { unOnTime unLate unOverdue unRunning unMedianDays stateMedianDays }
        paternity { claims open }
        byCategory { category allegations }
      }
      countryCases(code: "NPL", figure: ALLEGATIONS, category: POLICE_FPU) {
        category value caseIds
      }
      statistics(year: 2024) { asOf policy allegations }
    }""")  # fmt: skip

    assert data["country"]["investigations"] == {
        "unOnTime": 2, "unLate": 1, "unOverdue": 1, "unRunning": 1,
        "unMedianDays": 130.0, "stateMedianDays": 90.0,
    }  # fmt: skip
    assert data["country"]["paternity"] == {"claims": 2, "open": 1}
    assert data["countryCases"] == {"category": "POLICE_FPU", "value": 1, "caseIds": ["S-1"]}
    assert data["statistics"]["policy"] == st.COUNTING_POLICY
    assert data["statistics"]["asOf"].startswith("2026-01-01")


def test_a_total_takes_no_category(engine: Engine, log: Log) -> None:
    no_submitter: Any = None
    context = RequestContext(SqlReader(engine), no_submitter, DEFAULT_POLICY, lambda: NOW)
    token = current_actor.set(OFFICER)
    try:
        result = asyncio.run(build_schema().execute_async(
            '{ countryCases(code: "NPL", figure: SANCTIONS, category: MILITARY_MC) { value } }',
            context_value=context,
        ))  # fmt: skip
    finally:
        current_actor.reset(token)

    assert result.errors
    assert "takes no category" in result.errors[0].message
