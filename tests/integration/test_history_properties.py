"""Properties of the versioned read models, on SQLite (a file per example).

- Replaying any prefix of the log gives the records as of that prefix's last instant.
- Every UN-style table adds up to the total it claims.
- The country records added up from the kept figures equal those computed from the rows.
"""

import tempfile
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from support.domain import Log
from support.read_models import apply

from accountability.events.policy import DEFAULT_POLICY, POLICIES
from accountability.projections import case_file
from accountability.projections import country_record as cr
from accountability.projections import statistics as stats
from accountability.services import db

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STATES = ["GAB", "RWA", "NPL", "BGD"]

PROPERTIES = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def logs(draw: st.DrawFn) -> Log:
    """A few cases with random follow-up, each command recorded shortly after it happened."""
    log = Log(recorded_when_occurred=True)
    for n in range(draw(st.integers(1, 4))):
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 300)))
        reply = draw(st.one_of(st.none(), st.integers(1, 30).map(lambda d: timedelta(days=d))))
        log.case(
            f"P-{n}",
            draw(st.sampled_from(STATES)),
            at=start,
            reply_after=reply,
            substantiated=draw(st.one_of(st.none(), st.booleans())),
            prosecuted=draw(st.booleans()),
        )
    return log


def fresh_engine(directory: str, name: str) -> Engine:
    engine = db.create(f"sqlite:///{Path(directory) / name}")
    db.create_schema(engine)
    return engine


def views(engine: Engine, log: Log, as_of: datetime | None) -> dict[str, object]:
    case_ids = sorted({e.stream_id.removeprefix("case:") for e in log.envelopes})
    with engine.connect() as conn:
        files = {}
        for case_id in case_ids:
            view = case_file.get_case(conn, case_id, DEFAULT_POLICY, NOW, as_of)
            files[case_id] = None if view is None else {
                k: v for k, v in asdict(view).items() if k not in {"as_of", "version_from"}
            }  # fmt: skip
        records = {
            code: record.figures
            for code, record in cr.country_records(conn, DEFAULT_POLICY, NOW, as_of=as_of).items()
        }
    return {"cases": files, "countries": records}


@PROPERTIES
@given(logs(), st.data())
def test_replaying_a_prefix_gives_the_records_as_of_its_last_instant(
    log: Log, data: st.DataObject
) -> None:
    instants = sorted({e.recorded_at for e in log.envelopes})
    last_instant = data.draw(st.sampled_from(instants), label="replayed up to")
    # The log as it stood then: everything recorded by that instant, in log order.
    prefix_records = [
        record
        for record, envelope in zip(log.records, log.envelopes, strict=True)
        if envelope.recorded_at <= last_instant
    ]
    with tempfile.TemporaryDirectory() as directory:
        full, prefix = fresh_engine(directory, "full.db"), fresh_engine(directory, "prefix.db")
        apply(full, log.records)
        apply(prefix, prefix_records)

        assert views(full, log, as_of=last_instant) == views(prefix, log, as_of=last_instant)
        full.dispose()
        prefix.dispose()


@PROPERTIES
@given(logs())
def test_every_table_of_the_statistics_adds_up(log: Log) -> None:
    with tempfile.TemporaryDirectory() as directory:
        engine = fresh_engine(directory, "stats.db")
        apply(engine, log.records)
        with engine.connect() as conn:
            released = stats.statistics(
                conn, datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), NOW
            )
        engine.dispose()

    units = [t for t in released.tables if t.name not in {
        "victims", "victims_by_age", "alleged_perpetrators", "paternity_claims",
    }]  # fmt: skip
    assert units
    assert {t.total for t in units} == {released.allegations}
    assert released.table("victims").total == released.table("victims_by_age").total
    assert released.cases == len({e.stream_id for e in log.envelopes})


@PROPERTIES
@given(logs(), st.sampled_from([None, 2024, 2025]), st.integers(0, 900))
def test_kept_figures_give_the_records_computed_from_the_rows(
    log: Log, year: int | None, days: int
) -> None:
    judged_at = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=days)
    with tempfile.TemporaryDirectory() as directory:
        engine = fresh_engine(directory, "kept.db")
        apply(engine, log.records)
        with engine.connect() as conn:
            for policy in POLICIES.values():
                kept = cr.country_records(conn, policy, judged_at, year=year)
                counted = cr.country_records(conn, policy, judged_at, year=year, from_kept=False)
                assert kept == counted
        engine.dispose()
