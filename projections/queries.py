"""Reading the read models: plain views for the API, computed at query time.

Deadlines are judged here, against ``now`` and a :class:`DeadlinePolicy`, so the
stored rows never need rewriting when a policy changes.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, and_, case, func, or_, select
from sqlalchemy.sql import ColumnElement

from accountability.events.codec import parse_instant
from accountability.events.countries import COUNTRIES
from accountability.events.policy import DayCount, DeadlinePolicy, DeadlineStatus, assess

from .audit_log import audit_log
from .case_file import (
    case_actions,
    case_files,
    case_follow_ups,
    case_investigations,
    case_perpetrators,
    case_victims,
)
from .country_record import country_case_facts, country_cases, state_commitments

T = TypeVar("T")

# --- case files ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deadline:
    due_at: datetime
    status: DeadlineStatus
    done_at: datetime | None
    policy: str


@dataclass(frozen=True, slots=True)
class FollowUpView:
    member_state: str
    notified_at: datetime
    nio_requested: bool
    reply: str | None
    replied_at: datetime | None
    nio_appointed_at: datetime | None
    reply_deadline: Deadline


@dataclass(frozen=True, slots=True)
class CaseView:
    case_id: str
    status: str
    allegation_type: str
    mission: str | None
    incident_date: date | None
    received_at: datetime
    closed_at: datetime | None
    closure_reason: str | None
    substantiated: bool | None
    nationalities: list[str]
    last_sequence: int
    last_recorded_at: datetime
    perpetrators: list[dict[str, Any]] = field(default_factory=list)
    victims: list[dict[str, Any]] = field(default_factory=list)
    investigations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[FollowUpView] = field(default_factory=list)


def case_involves(conn: Connection, case_id: str, member_state: str) -> bool:
    row = conn.execute(
        select(case_perpetrators.c.case_id).where(
            case_perpetrators.c.case_id == case_id,
            case_perpetrators.c.nationality == member_state,
        )
    ).first()
    return row is not None


def get_case(
    conn: Connection, case_id: str, policy: DeadlinePolicy, now: datetime
) -> CaseView | None:
    row = conn.execute(select(case_files).where(case_files.c.case_id == case_id)).mappings().first()
    if row is None:
        return None

    def children(table: Any, order: Sequence[Any]) -> list[dict[str, Any]]:
        rows = conn.execute(select(table).where(table.c.case_id == case_id).order_by(*order))
        return [dict(r) for r in rows.mappings()]

    follow_ups = [
        FollowUpView(
            member_state=f["member_state"],
            notified_at=f["notified_at"],
            nio_requested=f["nio_requested"],
            reply=f["reply"],
            replied_at=f["replied_at"],
            nio_appointed_at=f["nio_appointed_at"],
            reply_deadline=reply_deadline(f["notified_at"], f["replied_at"], policy, now),
        )
        for f in children(case_follow_ups, [case_follow_ups.c.notified_at])
    ]
    return CaseView(
        case_id=row["case_id"],
        status=row["status"],
        allegation_type=row["allegation_type"],
        mission=row["mission"],
        incident_date=row["incident_date"],
        received_at=row["received_at"],
        closed_at=row["closed_at"],
        closure_reason=row["closure_reason"],
        substantiated=row["substantiated"],
        nationalities=[n for n in row["nationalities"].split(",") if n],
        last_sequence=row["last_sequence"],
        last_recorded_at=row["last_recorded_at"],
        perpetrators=children(case_perpetrators, [case_perpetrators.c.perpetrator_id]),
        victims=children(case_victims, [case_victims.c.victim_id]),
        investigations=children(case_investigations, [case_investigations.c.opened_at]),
        actions=children(case_actions, [case_actions.c.occurred_at, case_actions.c.event_id]),
        follow_ups=follow_ups,
    )


def reply_deadline(
    notified_at: datetime, replied_at: datetime | None, policy: DeadlinePolicy, now: datetime
) -> Deadline:
    due = policy.reply_due(notified_at)
    return Deadline(due, assess(due, replied_at, now), replied_at, policy.label)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    member_state: str | None = None
    status: str | None = None
    mission: str | None = None
    allegation_type: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case_id: str
    status: str
    allegation_type: str
    mission: str | None
    received_at: datetime
    nationalities: list[str]
    substantiated: bool | None
    cursor: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    end_cursor: str | None


class CursorError(ValueError):
    """A pagination cursor this API did not issue."""


def encode_cursor(*key: object) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise CursorError(f"malformed cursor '{cursor}'") from None
    if not isinstance(values, list) or len(values) != arity:
        raise CursorError(f"malformed cursor '{cursor}'")
    return values


def list_cases(
    conn: Connection, filters: CaseFilter, first: int, after: str | None
) -> Page[CaseSummary]:
    """Cases newest first by the date the UN received them, keyset-paginated."""
    query = select(case_files)
    if filters.member_state is not None:
        involved = select(case_perpetrators.c.case_id).where(
            case_perpetrators.c.nationality == filters.member_state
        )
        query = query.where(case_files.c.case_id.in_(involved))
    for column, value in (
        (case_files.c.status, filters.status),
        (case_files.c.mission, filters.mission),
        (case_files.c.allegation_type, filters.allegation_type),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.received_from is not None:
        query = query.where(case_files.c.received_at >= filters.received_from)
    if filters.received_to is not None:
        query = query.where(case_files.c.received_at < filters.received_to)
    if after is not None:
        received, case_id = decode_cursor(after, 2)
        try:
            at = datetime.fromisoformat(received)
        except (TypeError, ValueError):
            raise CursorError(f"malformed cursor '{after}'") from None
        query = query.where(
            or_(
                case_files.c.received_at < at,
                and_(case_files.c.received_at == at, case_files.c.case_id < case_id),
            )
        )
    query = query.order_by(case_files.c.received_at.desc(), case_files.c.case_id.desc())
    rows = conn.execute(query.limit(first + 1)).mappings().all()
    items = [
        CaseSummary(
            case_id=r["case_id"],
            status=r["status"],
            allegation_type=r["allegation_type"],
            mission=r["mission"],
            received_at=r["received_at"],
            nationalities=[n for n in r["nationalities"].split(",") if n],
            substantiated=r["substantiated"],
            cursor=encode_cursor(r["received_at"], r["case_id"]),
        )
        for r in rows[:first]
    ]
    return Page(items, len(rows) > first, items[-1].cursor if items else None)


# --- audit trail --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event_id: str
    stream_id: str
    sequence: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str
    actor_role: str
    actor_member_state: str | None
    command_id: str
    prev_hash: str
    hash: str
    chain_valid: bool
    chain_error: str | None
    envelope: str
    cursor: str


def audit_trail(
    conn: Connection, stream_id: str, first: int, after: str | None
) -> Page[AuditEntry]:
    query = select(audit_log).where(audit_log.c.stream_id == stream_id)
    if after is not None:
        (sequence,) = decode_cursor(after, 1)
        if not isinstance(sequence, int):
            raise CursorError(f"malformed cursor '{after}'")
        query = query.where(audit_log.c.sequence > sequence)
    rows = conn.execute(query.order_by(audit_log.c.sequence).limit(first + 1)).mappings().all()
    items = [_audit_entry(r) for r in rows[:first]]
    return Page(items, len(rows) > first, items[-1].cursor if items else None)


def _audit_entry(row: Any) -> AuditEntry:
    stored = json.loads(row["envelope"])
    actor = stored["actor"]
    return AuditEntry(
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        sequence=row["sequence"],
        type=row["type"],
        occurred_at=parse_instant(stored["occurred_at"]),
        recorded_at=row["recorded_at"],
        actor_id=actor["principal_id"],
        actor_role=actor["role"],
        actor_member_state=actor["member_state"],
        command_id=stored["command_id"],
        prev_hash=stored["prev_hash"],
        hash=stored["hash"],
        chain_valid=row["chain_valid"],
        chain_error=row["chain_error"],
        envelope=row["envelope"],
        cursor=encode_cursor(row["sequence"]),
    )


# --- country follow-up record -------------------------------------------------------


class CountryMeasure(StrEnum):
    """Measures a list of countries can be ordered by."""

    ACCOUNTABILITY_RATE = "accountability_rate"
    REPLY_ON_TIME_RATE = "reply_on_time_rate"
    ALLEGATIONS = "allegations"
    MISSING_REPLIES = "missing_replies"


@dataclass(frozen=True, slots=True)
class CountryRecord:
    code: str
    name: str
    as_of: datetime
    policy: str
    allegations: int = 0
    allegations_uniformed: int = 0
    perpetrators: int = 0
    notifications: int = 0
    replies_on_time: int = 0
    replies_late: int = 0
    replies_missing: int = 0
    replies_pending: int = 0
    declined_to_investigate: int = 0
    investigator_appointed: int = 0
    investigations_by_state: int = 0
    investigations_by_un: int = 0
    investigations_completed: int = 0
    substantiated: int = 0
    not_substantiated: int = 0
    substantiated_with_outcome: int = 0
    repatriations: int = 0
    sanctions: int = 0
    prosecutions_concluded: int = 0
    convictions: int = 0
    acquittals: int = 0
    dismissals: int = 0
    sentence_months: int = 0
    compact_signed_at: datetime | None = None
    categories: dict[str, int] = field(default_factory=dict)

    @property
    def investigator_appointed_rate(self) -> float | None:
        return _ratio(self.investigator_appointed, self.notifications)

    @property
    def reply_on_time_rate(self) -> float | None:
        due = self.replies_on_time + self.replies_late + self.replies_missing
        return _ratio(self.replies_on_time, due)

    @property
    def accountability_rate(self) -> float | None:
        """Share of substantiated cases with a reported sanction or prosecution outcome."""
        return _ratio(self.substantiated_with_outcome, self.substantiated)

    def measure(self, measure: CountryMeasure) -> float | None:
        match measure:
            case CountryMeasure.ACCOUNTABILITY_RATE:
                return self.accountability_rate
            case CountryMeasure.REPLY_ON_TIME_RATE:
                return self.reply_on_time_rate
            case CountryMeasure.ALLEGATIONS:
                return float(self.allegations)
            case CountryMeasure.MISSING_REPLIES:
                return float(self.replies_missing)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _aggregates(policy: DeadlinePolicy) -> list[ColumnElement[Any]]:
    cc, f = country_cases.c, country_case_facts.c
    elapsed = cc.reply_working_days if policy.day_count is DayCount.WORKING else cc.reply_days
    # coalesce: a NULL finding must count as "not substantiated", not as unknown, or
    # ``~substantiated`` would drop every case with one side's finding missing.
    substantiated = or_(
        func.coalesce(cc.national_finding, "") == "substantiated",
        func.coalesce(f.un_finding, "") == "substantiated",
    )
    concluded = or_(
        cc.national_investigation_concluded_at.is_not(None),
        f.un_investigation_concluded_at.is_not(None),
    )
    outcome = or_(cc.sanctions > 0, cc.prosecutions_concluded > 0)
    return [
        func.count().label("allegations"),
        _count(cc.uniformed).label("allegations_uniformed"),
        func.coalesce(func.sum(cc.perpetrators), 0).label("perpetrators"),
        func.count(cc.notified_at).label("notifications"),
        _count(and_(cc.replied_at.is_not(None), elapsed <= policy.reply_days)).label(
            "replies_on_time"
        ),
        _count(and_(cc.replied_at.is_not(None), elapsed > policy.reply_days)).label("replies_late"),
        _count(func.coalesce(cc.reply, "") == "declined").label("declined_to_investigate"),
        func.count(cc.nio_appointed_at).label("investigator_appointed"),
        func.count(cc.national_investigation_opened_at).label("investigations_by_state"),
        func.count(f.un_investigation_opened_at).label("investigations_by_un"),
        _count(concluded).label("investigations_completed"),
        _count(substantiated).label("substantiated"),
        _count(and_(concluded, ~substantiated)).label("not_substantiated"),
        _count(and_(substantiated, outcome)).label("substantiated_with_outcome"),
        func.coalesce(func.sum(cc.repatriations), 0).label("repatriations"),
        func.coalesce(func.sum(cc.sanctions), 0).label("sanctions"),
        func.coalesce(func.sum(cc.prosecutions_concluded), 0).label("prosecutions_concluded"),
        func.coalesce(func.sum(cc.convictions), 0).label("convictions"),
        func.coalesce(func.sum(cc.acquittals), 0).label("acquittals"),
        func.coalesce(func.sum(cc.dismissals), 0).label("dismissals"),
        func.coalesce(func.sum(cc.sentence_months), 0).label("sentence_months"),
    ]


_JOINED = country_cases.join(
    country_case_facts, country_case_facts.c.case_id == country_cases.c.case_id
)


def country_records(
    conn: Connection,
    policy: DeadlinePolicy,
    now: datetime,
    codes: Sequence[str] | None = None,
) -> dict[str, CountryRecord]:
    """The follow-up record of every country with an allegation (or of ``codes``)."""
    cc = country_cases.c
    where = [] if codes is None else [cc.member_state.in_(list(codes))]
    totals = conn.execute(
        select(cc.member_state, *_aggregates(policy))
        .select_from(_JOINED)
        .where(*where)
        .group_by(cc.member_state)
    ).mappings()
    values: dict[str, dict[str, Any]] = {r["member_state"]: dict(r) for r in totals}
    # Unanswered notifications are judged one by one: whether a reply is missing or
    # still within its deadline depends on ``now`` and on the policy's day count.
    unanswered = conn.execute(
        select(cc.member_state, cc.notified_at).where(
            cc.notified_at.is_not(None), cc.replied_at.is_(None), *where
        )
    )
    for code, notified_at in unanswered:
        status = assess(policy.reply_due(notified_at), None, now)
        key = "replies_missing" if status is DeadlineStatus.MISSED else "replies_pending"
        values[code][key] = values[code].get(key, 0) + 1
    categories = conn.execute(select(cc.member_state, cc.categories).where(*where))
    by_category: dict[str, dict[str, int]] = {}
    for code, joined in categories:
        for category in filter(None, joined.split(",")):
            counts = by_category.setdefault(code, {})
            counts[category] = counts.get(category, 0) + 1
    commitments_where = [] if codes is None else [
        state_commitments.c.member_state.in_(list(codes))
    ]  # fmt: skip
    signed = dict(
        conn.execute(
            select(state_commitments.c.member_state, state_commitments.c.compact_signed_at).where(
                *commitments_where
            )
        ).all()
    )
    wanted = set(values) | set(signed) if codes is None else set(codes)
    records: dict[str, CountryRecord] = {}
    for code in sorted(wanted):
        data = values.get(code, {})
        data.pop("member_state", None)
        records[code] = CountryRecord(
            code=code,
            name=COUNTRIES.get(code, code),
            as_of=now,
            policy=policy.label,
            compact_signed_at=signed.get(code),
            categories=by_category.get(code, {}),
            **{k: int(v) for k, v in data.items()},
        )
    return records


def rank_countries(
    records: Sequence[CountryRecord], measure: CountryMeasure, descending: bool
) -> list[CountryRecord]:
    """Order by ``measure``; countries for which it is undefined come last, by name."""
    defined = [r for r in records if r.measure(measure) is not None]
    undefined = sorted((r for r in records if r.measure(measure) is None), key=lambda r: r.name)
    defined.sort(key=lambda r: r.name)
    defined.sort(key=lambda r: r.measure(measure) or 0.0, reverse=descending)
    return defined + undefined
