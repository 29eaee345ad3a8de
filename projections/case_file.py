"""Case files: one case as it stood at an instant, with every deadline judged.

Read from ``case_history``'s versions; ``as_of`` picks the version that held then,
and deadlines are judged at that instant (or now) under a named policy.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from accountability.events.policy import DeadlinePolicy, DeadlineStatus, assess

from .casefold import VICTIM_GROUPS
from .history_tables import case_versions, state_case_versions
from .paging import CursorError, Page, decode_cursor, encode_cursor
from .versions import valid_at


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    due_at: datetime
    status: DeadlineStatus
    done_at: datetime | None
    policy: str
    member_state: str | None = None
    investigation_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaseView:
    case_id: str
    as_of: datetime
    policy: str
    status: str
    un_status: str
    allegation_type: str
    entity: str
    entity_name: str | None
    mission: str | None
    incident_date: date | None
    incident_date_precision: str
    received_at: datetime
    closed_at: datetime | None
    closure_reason: str | None
    published_at: datetime | None
    substantiated: bool | None
    nationalities: list[str]
    victim_groups: dict[str, int]
    version_from: datetime
    last_sequence: int
    perpetrators: list[dict[str, Any]] = field(default_factory=list)
    victims: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    investigations: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    narrative: dict[str, Any] | None = None
    """``{"at", "sealed"}``: sealed text, None once erased; opened at the edge."""
    notes: list[dict[str, Any]] = field(default_factory=list)
    """``{"note_id", "at", "sealed"}`` each."""
    erased_at: datetime | None = None
    erasure_reason: str | None = None


_INSTANT_FIELDS = {
    "repatriated_at", "referred_at", "notified_at", "replied_at", "nio_appointed_at",
    "opened_at", "concluded_at", "filed_at", "established_at", "support_arranged_at", "at",
    "erased_at",
}  # fmt: skip


def _instants(value: Any) -> Any:
    """JSON from the ``detail`` column with its ISO instants back as datetimes."""
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if not isinstance(value, dict):
        return value
    parsed: dict[str, Any] = {}
    for key, item in value.items():
        if key in _INSTANT_FIELDS and isinstance(item, str):
            parsed[key] = datetime.fromisoformat(item)
        elif key == "follow_up_requests":
            parsed[key] = [datetime.fromisoformat(t) for t in item]
        else:
            parsed[key] = _instants(item)
    return parsed


def get_case(
    conn: Connection,
    case_id: str,
    policy: DeadlinePolicy,
    now: datetime,
    as_of: datetime | None = None,
) -> CaseView | None:
    row = (
        conn.execute(
            select(case_versions).where(
                case_versions.c.case_id == case_id, valid_at(case_versions, as_of)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    detail = _instants(json.loads(row["detail"]))
    at = as_of or now
    return CaseView(
        case_id=row["case_id"],
        as_of=at,
        policy=policy.label,
        status=row["status"],
        un_status=row["un_status"],
        allegation_type=row["allegation_type"],
        entity=row["entity"],
        entity_name=row["entity_name"],
        mission=row["mission"],
        incident_date=row["incident_date"],
        incident_date_precision=row["incident_date_precision"],
        received_at=row["received_at"],
        closed_at=row["closed_at"],
        closure_reason=row["closure_reason"],
        published_at=row["published_at"],
        substantiated=row["substantiated"],
        nationalities=sorted({p["nationality"] for p in detail["perpetrators"]}),
        victim_groups={g: row[f"victims_{g}"] for g in VICTIM_GROUPS},
        version_from=row["recorded_from"],
        last_sequence=row["last_sequence"],
        perpetrators=detail["perpetrators"],
        victims=detail["victims"],
        follow_ups=detail["follow_ups"],
        investigations=detail["investigations"],
        claims=detail["claims"],
        deadlines=deadlines(detail, policy, at),
        # Versions written before texts existed have none of these keys.
        narrative=detail.get("narrative"),
        notes=detail.get("notes", []),
        erased_at=detail.get("erased_at"),
        erasure_reason=detail.get("erasure_reason"),
    )


def deadlines(detail: dict[str, Any], policy: DeadlinePolicy, at: datetime) -> list[Deadline]:
    """Every deadline of the case: each state's reply, each investigation's conclusion."""
    found: list[Deadline] = []
    for follow_up in detail["follow_ups"]:
        due = policy.reply_due(follow_up["notified_at"])
        done = follow_up["replied_at"]
        found.append(
            Deadline("reply", due, assess(due, done, at), done, policy.label,
                     member_state=follow_up["member_state"])
        )  # fmt: skip
    for investigation in detail["investigations"]:
        due = policy.investigation_due(investigation["opened_at"], investigation["urgent"])
        done = investigation["concluded_at"]
        found.append(
            Deadline("investigation", due, assess(due, done, at), done, policy.label,
                     member_state=investigation["member_state"],
                     investigation_id=investigation["investigation_id"])
        )  # fmt: skip
    return found


def case_involves(conn: Connection, case_id: str, member_state: str) -> bool:
    """Whether a case involves a Member State (a national among its alleged perpetrators)."""
    row = conn.execute(
        select(state_case_versions.c.perpetrators).where(
            state_case_versions.c.case_id == case_id,
            state_case_versions.c.member_state == member_state,
            valid_at(state_case_versions, None),
        )
    ).first()
    return row is not None and row.perpetrators > 0


@dataclass(frozen=True, slots=True)
class CaseFilter:
    member_state: str | None = None
    status: str | None = None
    mission: str | None = None
    allegation_type: str | None = None
    un_status: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case_id: str
    status: str
    un_status: str
    allegation_type: str
    mission: str | None
    received_at: datetime
    substantiated: bool | None
    cursor: str


def list_cases(
    conn: Connection,
    filters: CaseFilter,
    first: int,
    after: str | None,
    as_of: datetime | None = None,
) -> Page[CaseSummary]:
    """Cases newest first by the date the UN received them, keyset-paginated."""
    c = case_versions.c
    query = select(
        c.case_id, c.status, c.un_status, c.allegation_type, c.mission, c.received_at,
        c.substantiated,
    ).where(valid_at(case_versions, as_of))  # fmt: skip
    if filters.member_state is not None:
        involved = select(state_case_versions.c.case_id).where(
            state_case_versions.c.member_state == filters.member_state,
            state_case_versions.c.perpetrators > 0,
            valid_at(state_case_versions, as_of),
        )
        query = query.where(c.case_id.in_(involved))
    for column, value in (
        (c.status, filters.status),
        (c.mission, filters.mission),
        (c.allegation_type, filters.allegation_type),
        (c.un_status, filters.un_status),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.received_from is not None:
        query = query.where(c.received_at >= filters.received_from)
    if filters.received_to is not None:
        query = query.where(c.received_at < filters.received_to)
    if after is not None:
        received, case_id = decode_cursor(after, 2)
        try:
            at = datetime.fromisoformat(received)
        except (TypeError, ValueError):
            raise CursorError(f"malformed cursor '{after}'") from None
        query = query.where(or_(c.received_at < at, and_(c.received_at == at, c.case_id < case_id)))
    rows = conn.execute(
        query.order_by(c.received_at.desc(), c.case_id.desc()).limit(first + 1)
    ).mappings()
    items = [
        CaseSummary(
            case_id=r["case_id"],
            status=r["status"],
            un_status=r["un_status"],
            allegation_type=r["allegation_type"],
            mission=r["mission"],
            received_at=r["received_at"],
            substantiated=r["substantiated"],
            cursor=encode_cursor(r["received_at"], r["case_id"]),
        )
        for r in rows
    ]
    page = items[:first]
    return Page(page, len(items) > first, page[-1].cursor if page else None)
