"""Contract tests for the read models: the same tests against SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from support.domain import OFFICER, T0, Log, command
from support.read_models import apply, snapshot

from accountability.events import commands as c
from accountability.events.policy import DEFAULT_POLICY, POLICIES, WORKING_DAYS_POLICY
from accountability.events.types import CaseId, CountryCode, StreamId
from accountability.events.vocabulary import FocalPointRole, PersonnelCategory, Sex
from accountability.projections import all_projections, audit_log, case_file, country_figures, gaps
from accountability.projections import country_record as cr
from accountability.projections import statistics as st
from accountability.projections.audit_log import audit_anomalies
from accountability.projections.paging import CursorError
from accountability.projections.runner import (
    apply_batch,
    checkpoints,
    load_checkpoints,
    undecodable,
)
from accountability.projections.sql import metadata
from accountability.services import db

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def log() -> Log:
    log = Log()
    log.case("A-1", "GAB")  # replied on time, substantiated, sanctioned, prosecuted
    log.case("A-2", "GAB", reply_after=timedelta(days=25), substantiated=False)
    log.case("A-3", "GAB", reply_after=None)  # notified, never answered
    log.case("B-1", "RWA", reply_after=timedelta(days=1), substantiated=True, prosecuted=False)
    return log


def test_case_file_shows_parties_follow_up_actions_and_deadlines(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        case = case_file.get_case(conn, "A-1", DEFAULT_POLICY, NOW)

    assert case is not None
    assert (case.status, case.allegation_type, case.mission) == ("open", "SA", "MINUSCA")
    assert case.un_status == "Substantiated"
    assert case.nationalities == ["GAB"]
    assert case.victim_groups["girls"] == 1
    assert [(d.kind, d.status.value) for d in case.deadlines] == [
        ("reply", "met"),
        ("investigation", "met"),
    ]
    reply = case.deadlines[0]
    assert (reply.due_at, reply.member_state, reply.policy) == (
        T0 + timedelta(days=12), "GAB", DEFAULT_POLICY.label,
    )  # fmt: skip
    (perpetrator,) = case.perpetrators
    assert [s["kind"] for s in perpetrator["sanctions"]] == ["dismissal"]
    assert perpetrator["prosecution"]["outcome"] == "convicted"


def test_country_record_counts_each_follow_up_step(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        records = cr.country_records(conn, DEFAULT_POLICY, NOW)

    gab = records["GAB"].figures
    assert (gab["allegations"], gab["notifications"]) == (3, 3)
    assert (gab["replies_on_time"], gab["replies_late"], gab["replies_missing"]) == (1, 1, 1)
    assert gab["replies_pending"] == 0
    assert gab["investigator_appointed"] == 2
    assert (gab["substantiated"], gab["not_substantiated"]) == (1, 1)
    assert gab["substantiated_with_outcome"] == 1
    assert (gab["sanctions"], gab["prosecutions_concluded"], gab["convictions"]) == (1, 1, 1)
    assert gab["sentence_months"] == 24
    assert gab["stale"] == 1  # notified, unanswered for longer than the stale interval
    assert records["GAB"].accountability_rate == 1.0
    assert records["GAB"].reply_on_time_rate == pytest.approx(1 / 3)
    assert records["GAB"].categories == {"MC": 3}


def test_every_figure_lists_exactly_the_cases_it_counts(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        record = cr.country_records(conn, DEFAULT_POLICY, NOW, codes=["GAB"])["GAB"]
        behind = {
            figure: cr.cases_behind(conn, "GAB", figure, DEFAULT_POLICY, NOW)
            for figure in cr.COUNTS
        }

    for figure, cases in behind.items():
        assert len(cases) == record.figures[figure], figure
    assert behind["replies_missing"] == ["A-3"]
    assert behind["substantiated_with_outcome"] == ["A-1"]


def test_a_reply_still_within_its_deadline_is_pending_not_missing(engine: Engine) -> None:
    log = Log()
    log.case("P-1", "NPL", at=datetime.now(UTC) - timedelta(days=4), reply_after=None)
    apply(engine, log.records)

    with engine.connect() as conn:
        record = cr.country_records(conn, DEFAULT_POLICY, datetime.now(UTC))["NPL"]
        later = cr.country_records(conn, DEFAULT_POLICY, datetime.now(UTC) + timedelta(days=30))

    assert (record.figures["replies_pending"], record.figures["replies_missing"]) == (1, 0)
    assert (later["NPL"].figures["replies_pending"], later["NPL"].figures["replies_missing"]) == (
        0,
        1,
    )


def test_the_policy_decides_what_is_late(engine: Engine) -> None:
    log = Log()
    # Notified on a Friday, answered 12 calendar days later: 8 working days.
    log.case("W-1", "NPL", at=datetime(2024, 3, 6, 9, tzinfo=UTC), reply_after=timedelta(days=12))
    apply(engine, log.records)

    with engine.connect() as conn:
        calendar = cr.country_records(conn, DEFAULT_POLICY, NOW)["NPL"]
        working = cr.country_records(conn, WORKING_DAYS_POLICY, NOW)["NPL"]

    assert (calendar.figures["replies_late"], working.figures["replies_on_time"]) == (1, 1)
    assert (calendar.policy, working.policy) == (DEFAULT_POLICY.label, WORKING_DAYS_POLICY.label)


def test_records_per_year_and_overall(engine: Engine) -> None:
    log = Log()
    log.case("Y-1", "BGD", at=datetime(2022, 5, 1, tzinfo=UTC))
    log.case("Y-2", "BGD", at=datetime(2023, 5, 1, tzinfo=UTC), reply_after=None)
    apply(engine, log.records)

    with engine.connect() as conn:
        overall = cr.country_records(conn, DEFAULT_POLICY, NOW)["BGD"]
        in_2023 = cr.country_records(conn, DEFAULT_POLICY, NOW, year=2023)["BGD"]

    assert (overall.figures["allegations"], in_2023.figures["allegations"]) == (2, 1)
    assert in_2023.figures["replies_missing"] == 1
    assert in_2023.year == 2023


def test_a_figure_as_of_an_earlier_instant_ignores_what_was_recorded_later(
    engine: Engine,
) -> None:
    log = Log(recorded_when_occurred=True)
    log.case("H-1", "MAR", at=datetime(2024, 1, 10, tzinfo=UTC))
    apply(engine, log.records)
    before_reply = datetime(2024, 1, 13, tzinfo=UTC)  # notified on the 12th, replied on the 15th

    with engine.connect() as conn:
        then = cr.country_records(conn, DEFAULT_POLICY, NOW, as_of=before_reply)["MAR"]
        now = cr.country_records(conn, DEFAULT_POLICY, NOW)["MAR"]
        case_then = case_file.get_case(conn, "H-1", DEFAULT_POLICY, NOW, as_of=before_reply)

    assert then.figures["replies_pending"] == 1
    assert then.figures["replies_on_time"] == 0
    assert then.as_of == before_reply
    assert now.figures["replies_on_time"] == 1
    assert case_then is not None
    assert [d.status.value for d in case_then.deadlines] == ["running"]


def test_a_correction_changes_the_record_from_its_instant_on_only(engine: Engine) -> None:
    log = Log(recorded_when_occurred=True)
    log.case("K-1", "SEN", at=datetime(2024, 2, 1, tzinfo=UTC), reply_after=None)
    identified = next(e for e in log.envelopes if e.type == "AllegedPerpetratorIdentified")
    corrected_at = datetime(2024, 6, 1, tzinfo=UTC)
    payload = {"perpetrator_id": "P1", "category": "FPU", "nationality": "SEN", "sex": "male"}
    log.submit(
        command(
            c.CorrectEvent(
                StreamId("case:K-1"), identified.event_id, json.dumps(payload, sort_keys=True),
                "category was mistyped",
            ),
            at=corrected_at,
        )
    )  # fmt: skip
    apply(engine, log.records)

    with engine.connect() as conn:
        before = cr.country_records(
            conn, DEFAULT_POLICY, NOW, as_of=corrected_at - timedelta(days=1)
        )["SEN"]
        after = cr.country_records(conn, DEFAULT_POLICY, NOW)["SEN"]

    assert before.categories == {"MC": 1}
    assert after.categories == {"FPU": 1}
    assert_kept_figures_agree(engine)


def test_a_retracted_report_leaves_every_read_model(engine: Engine) -> None:
    log = Log()
    log.case("X-1", "IND", reply_after=None)
    report = log.envelopes[0]
    log.submit(command(c.RetractEvent(StreamId("case:X-1"), report.event_id, "entered twice")))
    apply(engine, log.records)

    with engine.connect() as conn:
        case = case_file.get_case(conn, "X-1", DEFAULT_POLICY, NOW)
        records = cr.country_records(conn, DEFAULT_POLICY, NOW)

    assert case is None
    assert "IND" not in records
    assert_kept_figures_agree(engine)
    with engine.connect() as conn:
        assert conn.execute(select(country_figures.country_figures)).first() is None


def assert_kept_figures_agree(engine: Engine) -> None:
    """The records added up from the kept figures equal those computed from the rows,
    under each policy, overall and for each year, judged at several instants."""
    instants = [datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 9, 1, tzinfo=UTC), NOW]
    with engine.connect() as conn:
        for policy in POLICIES.values():
            for at in instants:
                for year in (None, 2023, 2024):
                    kept = cr.country_records(conn, policy, at, year=year)
                    counted = cr.country_records(conn, policy, at, year=year, from_kept=False)
                    assert kept == counted, (policy.label, at, year)


def test_kept_figures_give_the_records_computed_from_the_rows(engine: Engine, log: Log) -> None:
    log.case("Y-1", "BGD", at=datetime(2023, 5, 1, tzinfo=UTC), reply_after=None)
    log.case("Y-2", "BGD", at=datetime(2024, 8, 20, tzinfo=UTC), substantiated=False)
    apply(engine, log.records)

    assert_kept_figures_agree(engine)
    with engine.connect() as conn:
        assert cr.country_records(conn, DEFAULT_POLICY, NOW)["GAB"].figures["allegations"] == 3


def test_a_database_made_before_figures_were_kept_counts_them_once(
    engine: Engine, log: Log
) -> None:
    apply(engine, log.records)
    with engine.begin() as conn:
        expected = cr.country_records(conn, DEFAULT_POLICY, NOW)
        conn.execute(country_figures.country_figures.delete())
        conn.execute(country_figures.country_investigation_days.delete())
        assert cr.country_records(conn, DEFAULT_POLICY, NOW) == {}

    db.create_schema(engine)
    db.create_schema(engine)  # once only

    with engine.connect() as conn:
        assert cr.country_records(conn, DEFAULT_POLICY, NOW) == expected
        partitions = conn.execute(select(country_figures.country_figures.c.partition)).scalars()
        assert set(partitions) == {country_figures.UPGRADED}


def test_a_policy_without_kept_figures_has_them_counted(engine: Engine, log: Log) -> None:
    apply(engine, log.records)
    table = country_figures.country_figures
    with engine.begin() as conn:
        expected = cr.country_records(conn, WORKING_DAYS_POLICY, NOW)
        conn.execute(table.delete().where(table.c.policy == WORKING_DAYS_POLICY.label))
        days = conn.execute(
            select(func.count()).select_from(country_figures.country_investigation_days)
        ).scalar()

    db.create_schema(engine)

    with engine.connect() as conn:
        assert cr.country_records(conn, WORKING_DAYS_POLICY, NOW) == expected
        again = conn.execute(
            select(func.count()).select_from(country_figures.country_investigation_days)
        ).scalar()
        assert again == days  # the days, which no policy judges, are not counted twice


def test_statistics_count_the_uns_unit_and_every_table_adds_up(engine: Engine) -> None:
    log = Log()
    log.case("S-1", "GAB", at=datetime(2024, 2, 1, tzinfo=UTC))
    log.case("S-2", "RWA", at=datetime(2024, 5, 1, tzinfo=UTC), reply_after=None)
    # One allegation, two contributing countries: counted twice.
    log.submit(command(c.IdentifyAllegedPerpetrator(
        CaseId("S-2"), PersonnelCategory.MILITARY_MC, CountryCode("NPL"), Sex.MALE
    ), at=datetime(2024, 5, 1, 2, tzinfo=UTC)))  # fmt: skip
    log.case("S-3", "BGD", at=datetime(2025, 1, 5, tzinfo=UTC), reply_after=None)
    apply(engine, log.records)

    with engine.connect() as conn:
        year = st.statistics(conn, datetime(2024, 1, 1, tzinfo=UTC),
                             datetime(2025, 1, 1, tzinfo=UTC), NOW)  # fmt: skip
        q2 = st.statistics(conn, datetime(2024, 4, 1, tzinfo=UTC),
                           datetime(2024, 7, 1, tzinfo=UTC), NOW)  # fmt: skip

    assert (year.cases, year.allegations) == (2, 3)
    assert (q2.cases, q2.allegations) == (1, 2)
    for table in year.tables[:8]:
        assert table.total == year.allegations, table.name
    assert year.table("victims").total == year.table("victims_by_age").total == 2
    assert {r.key: r.count for r in year.table("nationality").rows} == {
        "GAB": 1, "RWA": 1, "NPL": 1,
    }  # fmt: skip


def test_transparency_gaps_name_the_cases(engine: Engine, log: Log) -> None:
    log.submit(command(c.PublishCase(CaseId("A-1"), "MINUSCA-2024-01")))
    apply(engine, log.records)

    with engine.connect() as conn:
        found = gaps.transparency_gaps(conn, DEFAULT_POLICY, NOW)

    assert sorted(g.case_id for g in found.never_published) == ["A-2", "A-3", "B-1"]
    assert [(g.case_id, g.member_state) for g in found.silent_states] == [("A-3", "GAB")]
    assert found.victims_not_interviewed == []


def test_audit_log_keeps_every_envelope_with_a_valid_chain(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        page = audit_log.audit_trail(conn, "case:A-1", first=100, after=None)
        total = len(conn.execute(select(audit_log.audit_log.c.event_id)).all())

    assert total == len(log.records)
    assert [e.sequence for e in page.items] == list(range(1, len(page.items) + 1))
    assert all(e.chain_valid for e in page.items)
    assert page.items[0].prev_hash == "0" * 64
    assert page.items[1].prev_hash == page.items[0].hash


def test_redelivered_events_change_nothing(engine: Engine, log: Log) -> None:
    apply(engine, log.records)
    before = snapshot(engine)

    apply(engine, log.records)  # the whole log again, as after a crash before a commit
    with engine.begin() as conn:  # and one event again in a batch of its own
        apply_batch(conn, all_projections(), log.records[5:6])

    assert snapshot(engine) == before


@pytest.mark.parametrize("batch", [pytest.param(1, id="one-by-one"), pytest.param(7, id="small")])
def test_batch_boundaries_do_not_matter(engine: Engine, log: Log, batch: int) -> None:
    apply(engine, log.records, batch=batch)
    by_batches = snapshot(engine)
    for table in reversed(metadata.sorted_tables):
        with engine.begin() as conn:
            conn.execute(table.delete())

    apply(engine, log.records, batch=10_000)

    assert snapshot(engine) == by_batches


def test_checkpoints_move_past_each_batch(engine: Engine, log: Log) -> None:
    apply(engine, log.records[:10])

    with engine.connect() as conn:
        done = {p.name: load_checkpoints(conn, p.name) for p in all_projections()}

    expected: dict[int, int] = {}
    for partition, offset, _ in log.records[:10]:
        expected[partition] = max(expected.get(partition, 0), offset + 1)
    assert all(d == expected for d in done.values())


def test_a_changed_event_is_flagged_in_the_audit_log(engine: Engine, log: Log) -> None:
    partition, offset, raw = log.records[1]
    tampered = raw.replace(b'"nationality":"GAB"', b'"nationality":"FRA"')
    records = [*log.records[:1], (partition, offset, tampered), *log.records[2:]]

    apply(engine, records)

    table = audit_log.audit_log
    with engine.connect() as conn:
        broken = conn.execute(
            select(table.c.sequence, table.c.chain_error).where(~table.c.chain_valid)
        ).all()
    assert len(broken) == 1
    assert broken[0].sequence == 2
    assert "content hashes to" in broken[0].chain_error


def test_a_second_event_for_a_taken_sequence_is_kept_apart(engine: Engine, log: Log) -> None:
    partition, _, raw = log.records[1]
    data = json.loads(raw)
    data["event_id"] = "00000000-0000-5000-8000-000000000000"
    fork = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    records = [*log.records, (partition, 10_000, fork)]

    apply(engine, records)

    with engine.connect() as conn:
        anomalies = conn.execute(select(audit_anomalies)).mappings().all()
    assert [(a["stream_id"], a["sequence"], a["log_offset"]) for a in anomalies] == [
        ("case:A-1", 2, 10_000)
    ]


def test_an_undecodable_record_is_kept_and_passed(engine: Engine, log: Log) -> None:
    records = [*log.records, (0, 10_000, b"{not an envelope")]

    apply(engine, records)

    with engine.connect() as conn:
        kept = conn.execute(select(undecodable.c.log_offset, undecodable.c.reason)).all()
        done = (
            conn.execute(select(checkpoints.c.next_offset).where(checkpoints.c.partition == 0))
            .scalars()
            .all()
        )
    assert [k.log_offset for k in kept] == [10_000]
    assert "not valid JSON" in kept[0].reason
    assert set(done) == {10_001}


def test_cases_are_listed_newest_first_with_cursors(engine: Engine) -> None:
    log = Log()
    for n in range(5):
        log.case(f"L-{n}", "GAB" if n % 2 else "RWA", at=T0 + timedelta(days=n), reply_after=None)
    apply(engine, log.records)

    with engine.connect() as conn:
        everything = case_file.CaseFilter()
        first = case_file.list_cases(conn, everything, first=2, after=None)
        second = case_file.list_cases(conn, everything, first=2, after=first.end_cursor)
        rest = case_file.list_cases(conn, everything, first=2, after=second.end_cursor)
        rwa = case_file.list_cases(conn, case_file.CaseFilter(member_state="RWA"), 10, None)
        with pytest.raises(CursorError):
            case_file.list_cases(conn, everything, first=2, after="not-a-cursor")

    assert [c.case_id for c in first.items + second.items + rest.items] == [
        "L-4", "L-3", "L-2", "L-1", "L-0",
    ]  # fmt: skip
    assert (first.has_next, second.has_next, rest.has_next) == (True, True, False)
    assert [c.case_id for c in rwa.items] == ["L-4", "L-2", "L-0"]


def test_countries_rank_by_a_measure_with_undefined_ones_last(engine: Engine, log: Log) -> None:
    log.case("N-1", "NPL", reply_after=None)
    apply(engine, log.records)

    with engine.connect() as conn:
        records = list(cr.country_records(conn, DEFAULT_POLICY, NOW).values())
    ranked = cr.rank_countries(records, cr.CountryMeasure.ACCOUNTABILITY_RATE, descending=True)

    assert [r.code for r in ranked] == ["GAB", "RWA", "NPL"]
    assert ranked[-1].accountability_rate is None


def test_commitments_are_part_of_the_record(engine: Engine) -> None:
    log = Log()
    member = CountryCode("GHA")
    log.submit(command(c.SignVoluntaryCompact(member)))
    log.submit(command(c.ContributeToTrustFund(member, 25_000)))
    log.submit(command(c.ContributeToTrustFund(member, 5_000)))
    log.submit(command(c.DesignateFocalPoint(member, FocalPointRole.PATERNITY), actor=OFFICER))
    apply(engine, log.records)

    with engine.connect() as conn:
        ghana = cr.country_records(conn, DEFAULT_POLICY, NOW)["GHA"]

    assert ghana.compact_signed_at is not None
    assert (ghana.trust_fund_usd, ghana.trust_fund_contributions) == (30_000, 2)
    assert ghana.paternity_focal_point_at is not None
