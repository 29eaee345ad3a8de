"""The demo dataset, through the decider and the read models, reproduces the UN's
published yearly totals and mission splits (DOMAIN.md) in the UN's counting unit."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from support.domain import Log
from support.read_models import apply

from accountability.events.policy import DEFAULT_POLICY
from accountability.projections import country_record as cr
from accountability.projections import statistics as st
from accountability.services import db
from accountability.services.demo_data import (
    MISSION_SPLITS,
    YEARLY_TOTALS,
    Profile,
    generate,
    iter_commands,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo as of ``NOW``, decided and sealed, in the read models of a SQLite file."""
    log = Log(now=NOW)
    for command in iter_commands(generate(now=NOW)):
        log.submit(command)
    engine = db.create(f"sqlite:///{Path(tmp_path_factory.mktemp('demo')) / 'demo.db'}")
    db.create_schema(engine)
    apply(engine, log.records)
    yield engine
    engine.dispose()


def _year(engine: Engine, year: int) -> st.Statistics:
    with engine.connect() as conn:
        return st.statistics(
            conn, datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), NOW
        )


@pytest.mark.parametrize("year", sorted(YEARLY_TOTALS))
def test_each_year_counts_the_published_number_of_allegations(
    demo_engine: Engine, year: int
) -> None:
    released = _year(demo_engine, year)

    assert released.allegations == YEARLY_TOTALS[year]
    by_mission = {row.key: row.count for row in released.table("mission").rows}
    for mission, published in MISSION_SPLITS.get(year, {}).items():
        assert by_mission[mission] == published, mission


def test_member_states_follow_up_in_contrasting_ways(demo_engine: Engine) -> None:
    """Some states answer on time and prosecute, some stay silent: the record shows both."""
    with demo_engine.connect() as conn:
        records = cr.country_records(conn, DEFAULT_POLICY, NOW)
    demo = generate(now=NOW)
    silent = [c for c, p in demo.profiles.items() if p is Profile.SILENT and c in records]
    prompt = [c for c, p in demo.profiles.items() if p is Profile.PROMPT and c in records]

    assert silent
    assert prompt
    assert sum(records[c].figures["replies_missing"] for c in silent) > 0
    assert sum(records[c].figures["convictions"] for c in prompt) > 0
    assert sum(records[c].figures["replies_on_time"] for c in prompt) > sum(
        records[c].figures["replies_on_time"] for c in silent
    )
