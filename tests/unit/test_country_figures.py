"""What the projector keeps counted for country records: conditions that ignore the
instant, and medians read from counts of days."""

from datetime import UTC, datetime
from statistics import median

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_mock_engine

from accountability.events.policy import POLICIES
from accountability.projections.country_conditions import AT_THE_INSTANT, COUNTS
from accountability.projections.country_figures import KEPT_COUNTS, histogram_median


def test_kept_counts_do_not_depend_on_the_instant_of_judgement() -> None:
    instants = [datetime(2001, 1, 1, tzinfo=UTC), datetime(2030, 6, 15, tzinfo=UTC)]
    for url in ("sqlite://", "postgresql+psycopg://"):
        dialect = create_mock_engine(url, executor=print).dialect
        for policy in POLICIES.values():
            for name in KEPT_COUNTS:
                compiled = {
                    str(
                        COUNTS[name](policy, at).compile(
                            dialect=dialect, compile_kwargs={"literal_binds": True}
                        )
                    )
                    for at in instants
                }
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
