"""Contract tests for the read models: the same tests against SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from support.domain import T0, Log
from support.read_models import apply, snapshot

from accountability.events.policy import DEFAULT_POLICY
from accountability.projections import all_projections
from accountability.projections import queries as q
from accountability.projections.audit_log import audit_anomalies, audit_log
from accountability.projections.runner import (
    apply_batch,
    checkpoints,
    load_checkpoints,
    undecodable,
)
from accountability.projections.sql import metadata

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def log() -> Log:
    log = Log()
    log.case("A-1", "GAB")  # replied on time, substantiated, sanctioned, prosecuted
    log.case("A-2", "GAB", reply_after=timedelta(days=25), substantiated=False)
    log.case("A-3", "GAB", reply_after=None)  # notified, never answered
    log.case("B-1", "RWA", reply_after=timedelta(days=1), substantiated=True, prosecuted=False)
    return log


def test_case_file_shows_parties_follow_up_and_actions(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        case = q.get_case(conn, "A-1", DEFAULT_POLICY, NOW)

    assert case is not None
    assert (case.status, case.allegation_type, case.mission) == ("open", "SA", "MINUSCA")
    assert case.nationalities == ["GAB"]
    assert case.substantiated is True
    assert [p["nationality"] for p in case.perpetrators] == ["GAB"]
    assert [(v["age_group"], v["sex"]) for v in case.victims] == [("child", "female")]
    (follow_up,) = case.follow_ups
    assert follow_up.reply == "intent"
    assert follow_up.reply_deadline.status.value == "met"
    assert follow_up.reply_deadline.due_at == T0 + timedelta(days=12)
    assert [(a["action"], a["kind"]) for a in case.actions] == [
        ("sanction", "dismissal"),
        ("prosecution", "convicted"),
    ]
    (investigation,) = case.investigations
    assert (investigation["entity"], investigation["days_taken"]) == ("NIO", 90)


def test_country_record_counts_each_follow_up_step(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        records = q.country_records(conn, DEFAULT_POLICY, NOW)

    gab = records["GAB"]
    assert (gab.allegations, gab.notifications) == (3, 3)
    assert (gab.replies_on_time, gab.replies_late, gab.replies_missing) == (1, 1, 1)
    assert gab.replies_pending == 0
    assert gab.investigator_appointed == 2
    assert (gab.substantiated, gab.not_substantiated, gab.substantiated_with_outcome) == (1, 1, 1)
    assert (gab.sanctions, gab.prosecutions_concluded, gab.convictions) == (1, 1, 1)
    assert gab.sentence_months == 24
    assert gab.accountability_rate == 1.0
    assert gab.reply_on_time_rate == pytest.approx(1 / 3)
    assert gab.categories == {"MC": 3}
    rwa = records["RWA"]
    assert (rwa.substantiated, rwa.substantiated_with_outcome, rwa.sanctions) == (1, 1, 1)


def test_a_reply_still_within_its_deadline_is_pending_not_missing(engine: Engine) -> None:
    log = Log()
    log.case("P-1", "NPL", at=datetime.now(UTC) - timedelta(days=4), reply_after=None)
    apply(engine, log.records)

    with engine.connect() as conn:
        record = q.country_records(conn, DEFAULT_POLICY, datetime.now(UTC))["NPL"]
        later = q.country_records(conn, DEFAULT_POLICY, datetime.now(UTC) + timedelta(days=30))

    assert (record.replies_pending, record.replies_missing) == (1, 0)
    assert (later["NPL"].replies_pending, later["NPL"].replies_missing) == (0, 1)


def test_audit_log_keeps_every_envelope_with_a_valid_chain(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        page = q.audit_trail(conn, "case:A-1", first=100, after=None)
        total = len(conn.execute(select(audit_log.c.event_id)).all())

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

    with engine.connect() as conn:
        broken = conn.execute(
            select(audit_log.c.sequence, audit_log.c.chain_error).where(~audit_log.c.chain_valid)
        ).all()
    assert len(broken) == 1
    assert broken[0].sequence == 2
    assert "content hashes to" in broken[0].chain_error


def test_a_second_event_for_a_taken_sequence_is_kept_apart(engine: Engine, log: Log) -> None:
    partition, _offset, raw = log.records[1]
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
        first = q.list_cases(conn, q.CaseFilter(), first=2, after=None)
        second = q.list_cases(conn, q.CaseFilter(), first=2, after=first.end_cursor)
        rest = q.list_cases(conn, q.CaseFilter(), first=2, after=second.end_cursor)
        rwa = q.list_cases(conn, q.CaseFilter(member_state="RWA"), first=10, after=None)

    assert [c.case_id for c in first.items + second.items + rest.items] == [
        "L-4", "L-3", "L-2", "L-1", "L-0",
    ]  # fmt: skip
    assert (first.has_next, second.has_next, rest.has_next) == (True, True, False)
    assert [c.case_id for c in rwa.items] == ["L-4", "L-2", "L-0"]
    with pytest.raises(q.CursorError):
        q.list_cases(conn, q.CaseFilter(), first=2, after="not-a-cursor")


def test_countries_rank_by_accountability_rate(engine: Engine, log: Log) -> None:
    apply(engine, log.records)

    with engine.connect() as conn:
        records = list(q.country_records(conn, DEFAULT_POLICY, NOW).values())
    ranked = q.rank_countries(records, q.CountryMeasure.ALLEGATIONS, descending=True)

    assert [r.code for r in ranked] == ["GAB", "RWA"]
