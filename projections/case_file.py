"""Case file: each case's status, parties, investigations and actions.

The timeline of a case is its audit trail (``audit_log``); this read model holds what
the case is now.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    String,
    Table,
)

from accountability.events.catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    InvestigationConcluded,
    InvestigationOpened,
    MemberStateDeclinedToInvestigate,
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    NationalInvestigationOfficerAppointed,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    VictimRecorded,
)
from accountability.events.commands import CASE_STREAM_PREFIX
from accountability.events.vocabulary import Finding

from .rowset import Row, RowSet, add_to_list
from .runner import Record
from .sql import UTCDateTime, metadata

case_files = Table(
    "case_files",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("allegation_type", String(16), nullable=False),
    Column("mission", String(32)),
    Column("incident_date", Date),
    Column("received_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("closure_reason", String(64)),
    Column("perpetrator_count", Integer, nullable=False),
    Column("victim_count", Integer, nullable=False),
    Column("nationalities", String(1024), nullable=False),
    Column("substantiated", Boolean),
    Column("last_sequence", Integer, nullable=False),
    Column("last_recorded_at", UTCDateTime, nullable=False),
    Index("ix_case_files_received", "received_at", "case_id"),
    Index("ix_case_files_mission", "mission"),
)

case_perpetrators = Table(
    "case_perpetrators",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("perpetrator_id", String(64), primary_key=True),
    Column("category", String(16), nullable=False),
    Column("nationality", String(3), nullable=False),
    Column("sex", String(16), nullable=False),
    Column("repatriated_at", UTCDateTime),
    Index("ix_case_perpetrators_nationality", "nationality", "case_id"),
)

case_victims = Table(
    "case_victims",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("victim_id", String(64), primary_key=True),
    Column("age_group", String(16), nullable=False),
    Column("sex", String(16), nullable=False),
)

case_investigations = Table(
    "case_investigations",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("investigation_id", String(64), primary_key=True),
    Column("entity", String(16), nullable=False),
    Column("member_state", String(3)),
    Column("urgent", Boolean, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("concluded_at", UTCDateTime),
    Column("finding", String(32)),
    Column("victims_interviewed", Boolean),
    Column("days_taken", Integer),
)

case_follow_ups = Table(
    "case_follow_ups",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("member_state", String(3), primary_key=True),
    Column("notified_at", UTCDateTime, nullable=False),
    Column("nio_requested", Boolean, nullable=False),
    Column("reply", String(16)),
    Column("replied_at", UTCDateTime),
    Column("nio_appointed_at", UTCDateTime),
)

case_actions = Table(
    "case_actions",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("perpetrator_id", String(64), nullable=False),
    Column("member_state", String(3), nullable=False),
    Column("action", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("imposed_by", String(32)),
    Column("months", Integer),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_case_actions_case", "case_id"),
)


class CaseFileProjection:
    name: Final = "case_file"
    version: Final = 1
    tables: Final = (
        case_files,
        case_perpetrators,
        case_victims,
        case_follow_ups,
        case_investigations,
        case_actions,
    )

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        mine = [r for r in records if r.envelope.stream_id.startswith(CASE_STREAM_PREFIX)]
        if not mine:
            return
        ids = [r.envelope.stream_id.removeprefix(CASE_STREAM_PREFIX) for r in mine]
        files = RowSet(case_files)
        perpetrators = RowSet(case_perpetrators)
        victims = RowSet(case_victims)
        follow_ups = RowSet(case_follow_ups)
        investigations = RowSet(case_investigations)
        actions = RowSet(case_actions)
        files.load(conn, case_files.c.case_id, ids)
        perpetrators.load(conn, case_perpetrators.c.case_id, ids)
        follow_ups.load(conn, case_follow_ups.c.case_id, ids)
        investigations.load(conn, case_investigations.c.case_id, ids)
        for record in mine:
            envelope = record.envelope
            case_id = envelope.stream_id.removeprefix(CASE_STREAM_PREFIX)
            case = files.get(case_id)
            if case is not None and envelope.sequence <= case["last_sequence"]:
                continue  # already applied: a redelivery or a duplicate in the log
            at = envelope.occurred_at
            if isinstance(envelope.payload, AllegationReported):
                case = files.put(_new_case(case_id, envelope.payload, at))
            elif case is None:
                continue  # a stream that does not start with a report is not a case
            match envelope.payload:
                case AllegedPerpetratorIdentified() as e:
                    perpetrators.put(
                        {
                            "case_id": case_id,
                            "perpetrator_id": e.perpetrator_id,
                            "category": e.category.value,
                            "nationality": e.nationality,
                            "sex": e.sex.value,
                            "repatriated_at": None,
                        }
                    )
                    case["perpetrator_count"] += 1
                    case["nationalities"] = add_to_list(case["nationalities"], e.nationality)
                case VictimRecorded() as e:
                    victims.put(
                        {
                            "case_id": case_id,
                            "victim_id": e.victim_id,
                            "age_group": e.age_group.value,
                            "sex": e.sex.value,
                        }
                    )
                    case["victim_count"] += 1
                case MemberStateNotified() as e:
                    follow_ups.put(
                        {
                            "case_id": case_id,
                            "member_state": e.member_state,
                            "notified_at": at,
                            "nio_requested": e.nio_requested,
                            "reply": None,
                            "replied_at": None,
                            "nio_appointed_at": None,
                        }
                    )
                case MemberStateRepliedIntentToInvestigate(member_state=ms):
                    _set(follow_ups, (case_id, ms), reply="intent", replied_at=at)
                case MemberStateDeclinedToInvestigate(member_state=ms):
                    _set(follow_ups, (case_id, ms), reply="declined", replied_at=at)
                case NationalInvestigationOfficerAppointed(member_state=ms):
                    _set(follow_ups, (case_id, ms), nio_appointed_at=at)
                case InvestigationOpened() as e:
                    investigations.put(
                        {
                            "case_id": case_id,
                            "investigation_id": e.investigation_id,
                            "entity": e.entity.value,
                            "member_state": e.member_state,
                            "urgent": e.urgent,
                            "opened_at": at,
                            "concluded_at": None,
                            "finding": None,
                            "victims_interviewed": None,
                            "days_taken": None,
                        }
                    )
                case InvestigationConcluded() as e:
                    _set(
                        investigations,
                        (case_id, e.investigation_id),
                        concluded_at=at,
                        finding=e.finding.value,
                        victims_interviewed=e.victims_interviewed,
                        days_taken=e.days_taken,
                    )
                    substantiated = e.finding is Finding.SUBSTANTIATED
                    case["substantiated"] = bool(case["substantiated"]) or substantiated
                case PersonnelRepatriated() as e:
                    _set(perpetrators, (case_id, e.perpetrator_id), repatriated_at=at)
                case SanctionImposed() as e:
                    actions.put(
                        _action(envelope.event_id, case_id, e.perpetrator_id, e.member_state, at)
                        | {
                            "action": "sanction",
                            "kind": e.kind.value,
                            "imposed_by": e.imposed_by.value,
                            "months": e.months,
                        }
                    )
                case ProsecutionConcluded() as e:
                    actions.put(
                        _action(envelope.event_id, case_id, e.perpetrator_id, e.member_state, at)
                        | {
                            "action": "prosecution",
                            "kind": e.outcome.value,
                            "imposed_by": None,
                            "months": e.sentence_months,
                        }
                    )
                case CaseClosed() as e:
                    case.update(status="closed", closed_at=at, closure_reason=e.reason.value)
                case _:
                    pass
            case["last_sequence"] = envelope.sequence
            case["last_recorded_at"] = envelope.recorded_at
            files.touch(case)
        for rows in (files, perpetrators, victims, follow_ups, investigations, actions):
            rows.flush(conn)


def _set(rows: RowSet, key: tuple[str, str], **values: object) -> None:
    row = rows.get(*key)
    if row is not None:
        row.update(values)
        rows.touch(row)


def _new_case(case_id: str, e: AllegationReported, at: datetime) -> Row:
    return {
        "case_id": case_id,
        "status": "open",
        "allegation_type": e.allegation_type.value,
        "mission": e.mission,
        "incident_date": e.incident_date,
        "received_at": at,
        "closed_at": None,
        "closure_reason": None,
        "perpetrator_count": 0,
        "victim_count": 0,
        "nationalities": "",
        "substantiated": None,
    }


def _action(
    event_id: str, case_id: str, perpetrator_id: str, member_state: str, at: datetime
) -> Row:
    return {
        "event_id": event_id,
        "case_id": case_id,
        "perpetrator_id": perpetrator_id,
        "member_state": member_state,
        "occurred_at": at,
    }
