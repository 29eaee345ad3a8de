"""Deadlines as versioned policy, not law of nature (DOMAIN.md, "The follow-up chain").

A deadline is met when its step happened by the due instant, missed when it happened
late or not at all once the due instant passed, and running before that.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final


class DayCount(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


class DeadlineStatus(StrEnum):
    MET = "met"
    MISSED = "missed"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    policy_id: str
    version: int
    reply_days: int
    day_count: DayCount
    source: str

    @property
    def label(self) -> str:
        return f"{self.policy_id} v{self.version}"

    def reply_due(self, notified_at: datetime) -> datetime:
        return add_days(notified_at, self.reply_days, self.day_count)


def add_days(start: datetime, days: int, count: DayCount) -> datetime:
    if count is DayCount.CALENDAR:
        return start + timedelta(days=days)
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def count_working_days(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` to ``end`` that land on Monday to Friday (as ``add_days``)."""
    if end <= start:
        return 0
    whole = (end - start).days
    count = whole // 7 * 5
    for k in range(whole - whole % 7 + 1, whole + 1):
        if (start + timedelta(days=k)).weekday() < 5:
            count += 1
    return count


def assess(due: datetime, done_at: datetime | None, now: datetime) -> DeadlineStatus:
    """Met, missed or running, judged at ``now`` (a query's ``asOf`` or the present)."""
    if done_at is not None and done_at <= now:
        return DeadlineStatus.MET if done_at <= due else DeadlineStatus.MISSED
    return DeadlineStatus.MISSED if now > due else DeadlineStatus.RUNNING


DEFAULT_POLICY: Final = DeadlinePolicy(
    policy_id="un-sea-2016",
    version=1,
    reply_days=10,
    day_count=DayCount.CALENDAR,
    source=(
        "Member State reply within 10 days of notification: UN spokesperson, March 2016 "
        "(DOMAIN.md); '10 working days' is not confirmed, so calendar days are the default"
    ),
)
