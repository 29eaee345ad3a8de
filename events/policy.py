"""Deadlines as versioned policy, not law of nature (DOMAIN.md, "The follow-up chain").

A deadline is met when its step happened by the due instant, missed when it happened
late or not at all once the due instant passed, and running before that.
"""

from calendar import monthrange
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
    """The deadlines of the follow-up chain, named and versioned so that every figure
    judged under them can say which rules it used."""

    policy_id: str
    version: int
    reply_days: int
    day_count: DayCount
    source: str
    investigation_months: int = 6
    urgent_investigation_months: int = 3
    stale_after_days: int = 90

    @property
    def label(self) -> str:
        return f"{self.policy_id} v{self.version}"

    def reply_due(self, notified_at: datetime) -> datetime:
        return add_days(notified_at, self.reply_days, self.day_count)

    def investigation_due(self, opened_at: datetime, urgent: bool) -> datetime:
        months = self.urgent_investigation_months if urgent else self.investigation_months
        return add_months(opened_at, months)

    def reply_overdue_before(self, now: datetime) -> datetime:
        """Notifications made before this instant have a reply due before ``now``.

        The inverse of :meth:`reply_due`, found by bisection since a working-day
        deadline moves in steps over weekends.
        """
        low = now - timedelta(days=self.reply_days * 3 + 7)
        high = now
        while (high - low) > timedelta(microseconds=1):
            middle = low + (high - low) / 2
            if self.reply_due(middle) < now:
                low = middle
            else:
                high = middle
        return high

    def stale_before(self, now: datetime) -> datetime:
        """A follow-up with no step since before this instant has gone stale."""
        return now - timedelta(days=self.stale_after_days)


def add_months(start: datetime, months: int) -> datetime:
    """The same day and time ``months`` later; the 31st becomes the month's last day."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    last = monthrange(year, month)[1]
    return start.replace(year=year, month=month, day=min(start.day, last))


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


_SOURCES: Final = (
    "reply within 10 days of the notification: UN spokesperson, March 2016 (press); "
    "investigations completed within 6 months, 3 when urgency requires: the Secretary-"
    "General's special measures, A/70/729 (2016); the stale interval is this product's "
    "default, not a UN rule (DOMAIN.md)"
)

DEFAULT_POLICY: Final = DeadlinePolicy(
    policy_id="un-sea-2016",
    version=1,
    reply_days=10,
    day_count=DayCount.CALENDAR,
    source=_SOURCES + "; '10 working days' is not confirmed, so calendar days are the default",
)

WORKING_DAYS_POLICY: Final = DeadlinePolicy(
    policy_id="un-sea-2016-working-days",
    version=1,
    reply_days=10,
    day_count=DayCount.WORKING,
    source=_SOURCES + "; this variant reads the reply window as 10 working days",
)

POLICIES: Final = {p.label: p for p in (DEFAULT_POLICY, WORKING_DAYS_POLICY)}
"""Every policy by its label; a new version is a new entry, never an edit."""
