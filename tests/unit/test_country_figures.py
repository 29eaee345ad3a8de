"""What the projector keeps counted for country records: conditions that ignore the
instant, and medians read from counts of days."""

from datetime import UTC, datetime
from statistics import median

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_mock_engine
from sqlalchemy.engine import Dialect

from accountability.events.policy import POLICIES, DayCount, DeadlinePolicy
from accountability.projections.country_conditions import AT_THE_INSTANT, BY_POLICY, COUNTS
from accountability.projections.country_figures import KEPT_COUNTS, histogram_median

DIALECTS = [
    create_mock_engine(url, executor=print).dialect
    for url in ("sqlite://", "postgresql+psycopg://")
]


def _sql(name: str, policy: DeadlinePolicy, at: datetime, dialect: Dialect) -> str:
    """The SQL of one count's condition, its values written in."""
    condition = COUNTS[name](policy, at)
    return str(condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_kept_counts_do_not_depend_on_the_instant_of_judgement() -> None:
    instants = [datetime(2001, 1, 1, tzinfo=UTC), datetime(2030, 6, 15, tzinfo=UTC)]
    for dialect in DIALECTS:
        for policy in POLICIES.values():
            for name in KEPT_COUNTS:
                compiled = {_sql(name, policy, at, dialect) for at in instants}
                assert len(compiled) == 1, name


def test_the_counts_of_the_instant_do_depend_on_it() -> None:
    instants = [datetime(2001, 1, 1, tzinfo=UTC), datetime(2030, 6, 15, tzinfo=UTC)]
    policy = next(iter(POLICIES.values()))
    for name in AT_THE_INSTANT:
        compiled = {
            str(COUNTS[name](policy, at).compile(compile_kwargs={"literal_binds": True}))
            for at in instants
        }
        assert len(compiled) == 2, name


@given(st.lists(st.integers(0, 400), min_size=1, max_size=60))
def test_the_median_of_counted_days_is_the_median_of_the_days(days: list[int]) -> None:
    histogram = sorted((d, days.count(d)) for d in set(days))
    assert histogram_median(histogram) == median(days)


def test_only_the_counts_said_to_be_by_policy_depend_on_the_policy() -> None:
    at = datetime(2030, 6, 15, tzinfo=UTC)
    unlike = DeadlinePolicy(
        "unlike-every-other", 1, reply_days=4, day_count=DayCount.WORKING, source="a test",
        investigation_months=9, urgent_investigation_months=2, stale_after_days=30,
    )  # fmt: skip
    policies = [*POLICIES.values(), unlike]
    for dialect in DIALECTS:
        for name in KEPT_COUNTS:
            compiled = {_sql(name, policy, at, dialect) for policy in policies}
            assert (len(compiled) > 1) == (name in BY_POLICY), name
