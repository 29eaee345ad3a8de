"""Transparency gaps: what critics say goes missing, shown case by case (DOMAIN.md).

Cases never published; investigations that did not interview the victims; cases
closed without any investigation; Member States silent past a reply deadline.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, select

from accountability.events.policy import DeadlinePolicy

from .history_tables import case_versions, state_case_versions
from .versions import valid_at

cv, sc = case_versions.c, state_case_versions.c


@dataclass(frozen=True, slots=True)
class Gap:
    case_id: str
    received_at: datetime
    member_state: str | None = None
    since: datetime | None = None
    """For a silent state: when the reply fell due."""


@dataclass(frozen=True, slots=True)
class Gaps:
    as_of: datetime
    policy: str
    never_published: list[Gap]
    victims_not_interviewed: list[Gap]
    closed_without_investigation: list[Gap]
    silent_states: list[Gap]


def transparency_gaps(
    conn: Connection,
    policy: DeadlinePolicy,
    now: datetime,
    *,
    as_of: datetime | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
) -> Gaps:
    at = as_of or now
    period = []
    if received_from is not None:
        period.append(cv.received_at >= received_from)
    if received_to is not None:
        period.append(cv.received_at < received_to)

    def cases_where(*conditions: ColumnElement[bool]) -> list[Gap]:
        rows = conn.execute(
            select(cv.case_id, cv.received_at)
            .where(valid_at(case_versions, as_of), *period, *conditions)
            .order_by(cv.received_at, cv.case_id)
        )
        return [Gap(case_id, received_at) for case_id, received_at in rows]

    silent_period = []
    if received_from is not None:
        silent_period.append(sc.received_at >= received_from)
    if received_to is not None:
        silent_period.append(sc.received_at < received_to)
    silent = conn.execute(
        select(sc.case_id, sc.received_at, sc.member_state, sc.notified_at)
        .where(
            valid_at(state_case_versions, as_of),
            *silent_period,
            sc.notified_at.is_not(None),
            sc.replied_at.is_(None),
            sc.notified_at < policy.reply_overdue_before(at),
        )
        .order_by(sc.notified_at, sc.case_id)
    )
    return Gaps(
        as_of=at,
        policy=policy.label,
        never_published=cases_where(cv.published_at.is_(None)),
        victims_not_interviewed=cases_where(cv.victims_not_interviewed.is_(True)),
        closed_without_investigation=cases_where(cv.closed_without_investigation.is_(True)),
        silent_states=[
            Gap(case_id, received, member_state, policy.reply_due(notified))
            for case_id, received, member_state, notified in silent
        ],
    )
