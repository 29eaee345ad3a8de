"""The deadline policy: counting days, and judging a deadline met, missed or running."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.events.policy import (
    DEFAULT_POLICY,
    DayCount,
    DeadlinePolicy,
    DeadlineStatus,
    add_days,
    assess,
)

MONDAY = datetime(2024, 1, 8, 9, 30, tzinfo=UTC)
THURSDAY = MONDAY + timedelta(days=3)
FRIDAY = MONDAY + timedelta(days=4)
SATURDAY = MONDAY + timedelta(days=5)
SUNDAY = MONDAY + timedelta(days=6)
NEXT_MONDAY = MONDAY + timedelta(days=7)


def policy(reply_days: int = 10, day_count: DayCount = DayCount.CALENDAR) -> DeadlinePolicy:
    return DeadlinePolicy("test-policy", 3, reply_days, day_count, "tests")


# --- counting days ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        pytest.param(MONDAY, 10, MONDAY + timedelta(days=10), id="ten-days"),
        pytest.param(FRIDAY, 1, SATURDAY, id="weekends-count"),
        pytest.param(SATURDAY, 2, NEXT_MONDAY, id="across-a-weekend"),
        pytest.param(datetime(2024, 2, 25, tzinfo=UTC), 5, datetime(2024, 3, 1, tzinfo=UTC),
                     id="across-29-february"),
        pytest.param(MONDAY, 0, MONDAY, id="zero-days"),
    ],
)  # fmt: skip
def test_calendar_days_count_every_day(start: datetime, days: int, due: datetime) -> None:
    assert add_days(start, days, DayCount.CALENDAR) == due


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        pytest.param(MONDAY, 1, MONDAY + timedelta(days=1), id="monday-plus-one-is-tuesday"),
        pytest.param(MONDAY, 5, NEXT_MONDAY, id="a-working-week"),
        pytest.param(THURSDAY, 2, NEXT_MONDAY, id="thursday-plus-two-skips-the-weekend"),
        pytest.param(FRIDAY, 1, NEXT_MONDAY, id="friday-plus-one-is-monday"),
        pytest.param(SATURDAY, 1, NEXT_MONDAY, id="from-saturday"),
        pytest.param(SUNDAY, 1, NEXT_MONDAY, id="from-sunday"),
        pytest.param(FRIDAY, 10, FRIDAY + timedelta(days=14), id="ten-working-days"),
        pytest.param(SATURDAY, 0, SATURDAY, id="zero-days-stays-on-the-weekend"),
    ],
)
def test_working_days_skip_weekends(start: datetime, days: int, due: datetime) -> None:
    assert add_days(start, days, DayCount.WORKING) == due


def test_counting_days_keeps_the_time_of_day_and_the_offset() -> None:
    plus_three = timezone(timedelta(hours=3))
    start = datetime(2024, 1, 12, 23, 45, tzinfo=plus_three)  # Friday there, Friday in UTC

    due = add_days(start, 1, DayCount.WORKING)

    assert due == datetime(2024, 1, 15, 23, 45, tzinfo=plus_three)
    assert due.utcoffset() == timedelta(hours=3)


@settings(max_examples=50, deadline=None, database=None)
@given(
    start=st.integers(0, 10 * 365 * 24 * 60).map(lambda m: MONDAY + timedelta(minutes=m)),
    days=st.integers(1, 40),
)
def test_n_working_days_later_is_a_weekday_with_n_weekdays_in_between(
    start: datetime, days: int
) -> None:
    due = add_days(start, days, DayCount.WORKING)

    assert due.weekday() < 5
    assert due.time() == start.time()
    passed = [start + timedelta(days=d) for d in range(1, (due - start).days + 1)]
    assert sum(day.weekday() < 5 for day in passed) == days
    assert add_days(start, days, DayCount.CALENDAR) <= due


def test_a_policy_counts_its_reply_days_its_own_way() -> None:
    assert policy(10, DayCount.CALENDAR).reply_due(FRIDAY) == FRIDAY + timedelta(days=10)
    assert policy(10, DayCount.WORKING).reply_due(FRIDAY) == FRIDAY + timedelta(days=14)


# --- met, missed, running -------------------------------------------------------------

DUE = datetime(2024, 1, 18, 9, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("done_at", "now", "status"),
    [
        pytest.param(DUE - timedelta(days=3), DUE + timedelta(days=30), DeadlineStatus.MET,
                     id="done-early"),
        pytest.param(DUE, DUE, DeadlineStatus.MET, id="done-exactly-at-the-due-instant"),
        pytest.param(DUE, DUE + timedelta(days=1), DeadlineStatus.MET,
                     id="done-at-the-due-instant-judged-later"),
        pytest.param(DUE - timedelta(days=1), DUE - TICK, DeadlineStatus.MET,
                     id="done-before-due-judged-before-due"),
        pytest.param(DUE + TICK, DUE + timedelta(days=1), DeadlineStatus.MISSED,
                     id="done-a-microsecond-late"),
        pytest.param(DUE + timedelta(days=5), DUE + timedelta(days=5), DeadlineStatus.MISSED,
                     id="done-late-judged-at-that-instant"),
        pytest.param(None, DUE - timedelta(days=1), DeadlineStatus.RUNNING, id="not-done-yet"),
        pytest.param(None, DUE, DeadlineStatus.RUNNING, id="not-done-at-the-due-instant"),
        pytest.param(None, DUE + TICK, DeadlineStatus.MISSED, id="not-done-after-due"),
        pytest.param(DUE - timedelta(days=1), DUE - timedelta(days=2), DeadlineStatus.RUNNING,
                     id="done-after-now-is-not-done-yet"),
        pytest.param(DUE + timedelta(days=3), DUE + timedelta(days=1), DeadlineStatus.MISSED,
                     id="done-after-now-and-now-past-due"),
    ],
)  # fmt: skip
def test_a_deadline_is_judged_at_now(
    done_at: datetime | None, now: datetime, status: DeadlineStatus
) -> None:
    assert assess(DUE, done_at, now) is status


def test_an_as_of_instant_before_the_reply_sees_no_reply() -> None:
    notified = datetime(2024, 1, 8, 9, 30, tzinfo=UTC)
    due = DEFAULT_POLICY.reply_due(notified)
    replied = notified + timedelta(days=4)

    assert assess(due, replied, now=notified + timedelta(days=2)) is DeadlineStatus.RUNNING
    assert assess(due, replied, now=replied) is DeadlineStatus.MET


# --- the default policy -----------------------------------------------------------------


def test_the_default_policy_gives_a_state_ten_calendar_days_to_reply() -> None:
    assert DEFAULT_POLICY.label == "un-sea-2016 v1"
    assert (DEFAULT_POLICY.reply_days, DEFAULT_POLICY.day_count) == (10, DayCount.CALENDAR)
    assert DEFAULT_POLICY.reply_due(FRIDAY) == FRIDAY + timedelta(days=10)
    assert "10 days" in DEFAULT_POLICY.source


def test_a_policy_is_labelled_by_its_id_and_version() -> None:
    assert policy().label == "test-policy v3"
