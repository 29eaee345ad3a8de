"""The conditions behind the figures of a country record, on one Member State's row for
one case (``state_case_versions``).

Every count is a named condition, judged under a deadline policy at an instant; every
total adds up a column. The record counts them (``country_record.py``), the projector
keeps the ones that do not depend on the instant counted in advance
(``country_figures.py``), and the cases behind a figure are listed by the same
condition, so a figure and its explanation can never disagree.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Index, and_, case, func, literal, literal_column, not_, or_

from accountability.events.policy import DayCount, DeadlinePolicy, add_months
from accountability.events.vocabulary import PersonnelCategory

from .dates import DaysBetween, WithinMonths
from .history_tables import state_case_versions

sc = state_case_versions.c

Condition = Callable[[DeadlinePolicy, datetime], ColumnElement[bool]]


def _months(urgent: Any, policy: DeadlinePolicy) -> ColumnElement[Any]:
    return case(
        (urgent.is_(True), policy.urgent_investigation_months),
        else_=policy.investigation_months,
    )


def _overdue(prefix: str) -> Condition:
    """Investigations still open once their deadline passed, judged at ``at``."""
    opened, concluded, urgent = (
        sc[f"{prefix}_opened_at"],
        sc[f"{prefix}_concluded_at"],
        sc[f"{prefix}_urgent"],
    )

    def condition(policy: DeadlinePolicy, at: datetime) -> ColumnElement[bool]:
        normal = add_months(at, -policy.investigation_months)
        urgent_since = add_months(at, -policy.urgent_investigation_months)
        return and_(
            opened.is_not(None),
            concluded.is_(None),
            or_(
                and_(urgent.is_(True), opened < urgent_since),
                and_(urgent.is_not(True), opened < normal),
            ),
        )

    return condition


def _running(prefix: str) -> Condition:
    """Investigations still open, their deadline not yet passed at ``at``."""
    opened, concluded = sc[f"{prefix}_opened_at"], sc[f"{prefix}_concluded_at"]
    overdue = _overdue(prefix)

    def condition(policy: DeadlinePolicy, at: datetime) -> ColumnElement[bool]:
        return and_(opened.is_not(None), concluded.is_(None), not_(overdue(policy, at)))

    return condition


def _concluded(prefix: str, in_time: bool) -> Condition:
    opened, concluded, urgent = (
        sc[f"{prefix}_opened_at"],
        sc[f"{prefix}_concluded_at"],
        sc[f"{prefix}_urgent"],
    )

    def condition(policy: DeadlinePolicy, at: datetime) -> ColumnElement[bool]:
        within = WithinMonths(opened, concluded, _months(urgent, policy))
        return and_(concluded.is_not(None), within if in_time else not_(within))

    return condition


def _reply_elapsed(policy: DeadlinePolicy) -> ColumnElement[Any]:
    return sc.reply_working_days if policy.day_count is DayCount.WORKING else sc.reply_days


_SUBSTANTIATED = sc.substantiated.is_(True)
_CONCLUDED = or_(sc.national_concluded_at.is_not(None), sc.un_concluded_at.is_not(None))
_OPEN = sc.case_closed_at.is_(None)
_NONE: ColumnElement[int] = literal_column("0")
"""Zero written into the SQL, not bound: SQLite matches a partial index's condition
(``AWAITING``'s) only against the same text, and a bound parameter is not."""
_COMPLETE = and_(
    _CONCLUDED, or_(not_(_SUBSTANTIATED), sc.sanctions > _NONE, sc.prosecutions_concluded > _NONE)
)
"""Nothing more is expected of the state: no finding against its national, or an outcome."""

COUNTS: dict[str, Condition] = {
    "allegations": lambda p, at: sc.perpetrators > 0,
    "allegations_uniformed": lambda p, at: sc.uniformed.is_(True),
    "notifications": lambda p, at: sc.notified_at.is_not(None),
    "replies_on_time": lambda p, at: and_(
        sc.replied_at.is_not(None), _reply_elapsed(p) <= p.reply_days
    ),
    "replies_late": lambda p, at: and_(
        sc.replied_at.is_not(None), _reply_elapsed(p) > p.reply_days
    ),
    "replies_missing": lambda p, at: and_(
        sc.notified_at.is_not(None),
        sc.replied_at.is_(None),
        sc.notified_at < p.reply_overdue_before(at),
    ),
    "replies_pending": lambda p, at: and_(
        sc.notified_at.is_not(None),
        sc.replied_at.is_(None),
        sc.notified_at >= p.reply_overdue_before(at),
    ),
    "declined_to_investigate": lambda p, at: func.coalesce(sc.reply, "") == "declined",
    "investigator_appointed": lambda p, at: sc.nio_appointed_at.is_not(None),
    "investigations_by_state": lambda p, at: sc.national_opened_at.is_not(None),
    "investigations_by_un": lambda p, at: sc.un_opened_at.is_not(None),
    "investigations_completed": lambda p, at: _CONCLUDED,
    "state_investigations_on_time": _concluded("national", in_time=True),
    "state_investigations_late": _concluded("national", in_time=False),
    "state_investigations_overdue": _overdue("national"),
    "state_investigations_running": _running("national"),
    "un_investigations_on_time": _concluded("un", in_time=True),
    "un_investigations_late": _concluded("un", in_time=False),
    "un_investigations_overdue": _overdue("un"),
    "un_investigations_running": _running("un"),
    "substantiated": lambda p, at: _SUBSTANTIATED,
    "not_substantiated": lambda p, at: and_(_CONCLUDED, not_(_SUBSTANTIATED)),
    "substantiated_with_outcome": lambda p, at: and_(
        _SUBSTANTIATED, or_(sc.sanctions > 0, sc.prosecutions_concluded > 0)
    ),
    "substantiated_without_outcome": lambda p, at: and_(
        _SUBSTANTIATED, sc.sanctions == 0, sc.prosecutions_concluded == 0
    ),
    "follow_up_requested": lambda p, at: sc.follow_up_requests > 0,
    "follow_up_outstanding": lambda p, at: and_(
        _OPEN,
        sc.last_request_at.is_not(None),
        or_(sc.last_state_step_at.is_(None), sc.last_state_step_at < sc.last_request_at),
    ),
    "stale": lambda p, at: and_(
        _OPEN,
        sc.notified_at.is_not(None),
        not_(_COMPLETE),
        sc.last_activity_at < p.stale_before(at),
    ),
}
"""Figures that count cases meeting a condition."""

TOTALS: dict[str, ColumnElement[Any]] = {
    **{name: sc[name] for name in (
        "perpetrators", "interim_actions", "repatriations", "referrals", "sanctions",
        "prosecutions_concluded", "convictions", "acquittals", "dismissals", "sentence_months",
        "paternity_claims", "paternity_established",
    )},
    "paternity_open": sc.paternity_claims - sc.paternity_established,
}  # fmt: skip
"""Figures that add up a column (or a difference of columns) over the cases."""

FIGURES = (*COUNTS, *TOTALS)


AT_THE_INSTANT = frozenset({
    "replies_missing", "replies_pending", "state_investigations_overdue",
    "state_investigations_running", "un_investigations_overdue", "un_investigations_running",
    "stale",
})  # fmt: skip
"""The counts that change with the instant of judgement alone, as deadlines pass."""

BY_POLICY = frozenset({
    "replies_on_time", "replies_late", "state_investigations_on_time",
    "state_investigations_late", "un_investigations_on_time", "un_investigations_late",
})  # fmt: skip
"""The other counts that the deadline policy decides; the rest depend on a row alone."""

AWAITING: ColumnElement[bool] = or_(
    and_(sc.notified_at.is_not(None), sc.replied_at.is_(None)),
    and_(sc.national_opened_at.is_not(None), sc.national_concluded_at.is_(None)),
    and_(sc.un_opened_at.is_not(None), sc.un_concluded_at.is_(None)),
    and_(_OPEN, sc.notified_at.is_not(None), not_(_COMPLETE)),
)
"""The rows still waiting on a step: every count of :data:`AT_THE_INSTANT` is within them."""

Index(
    "ix_state_case_versions_awaiting",
    sc.member_state,
    sc.received_year,
    sqlite_where=and_(sc.recorded_to.is_(None), AWAITING),
    postgresql_where=and_(sc.recorded_to.is_(None), AWAITING),
)


def has_category(code: str) -> ColumnElement[bool]:
    """The case involves the state's nationals of category ``code`` (a UN code)."""
    return (literal(",") + sc.categories + literal(",")).contains(f",{code},")


CATEGORY_CODES = [category.value for category in PersonnelCategory]

INVESTIGATORS = ("national", "un")  # investigations by the state, by the UN


def investigation_days(prefix: str) -> DaysBetween:
    """Days from opening to conclusion of the investigation by ``prefix``."""
    return DaysBetween(sc[f"{prefix}_opened_at"], sc[f"{prefix}_concluded_at"])


def investigation_concluded(prefix: str) -> ColumnElement[bool]:
    return and_(sc[f"{prefix}_opened_at"].is_not(None), sc[f"{prefix}_concluded_at"].is_not(None))
