"""Country follow-up record: what each Member State did about allegations against its nationals.

One row per (Member State, case) holds the facts of that state's follow-up; one row
per case holds what the UN did. Deadlines are not stored: they are judged at query
time under a versioned policy (``events.policy``), so the same rows answer for any
policy and any instant.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Final

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    String,
    Table,
)

from accountability.events.catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    InvestigationConcluded,
    InvestigationOpened,
    MemberStateDeclinedToInvestigate,
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    NationalInvestigationOfficerAppointed,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    VoluntaryCompactSigned,
)
from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX
from accountability.events.policy import count_working_days
from accountability.events.vocabulary import ProsecutionOutcome

from .rowset import Row, RowSet, add_to_list
from .runner import Record
from .sql import UTCDateTime, metadata

country_case_facts = Table(
    "country_case_facts",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("un_investigation_opened_at", UTCDateTime),
    Column("un_investigation_concluded_at", UTCDateTime),
    Column("un_finding", String(32)),
    Column("last_sequence", Integer, nullable=False),
)

country_cases = Table(
    "country_cases",
    metadata,
    Column("member_state", String(3), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("categories", String(128), nullable=False),
    Column("perpetrators", Integer, nullable=False),
    Column("uniformed", Boolean, nullable=False),
    Column("notified_at", UTCDateTime),
    Column("nio_requested", Boolean),
    Column("reply", String(16)),
    Column("replied_at", UTCDateTime),
    Column("reply_days", Float),
    Column("reply_working_days", Integer),
    Column("nio_appointed_at", UTCDateTime),
    Column("national_investigation_opened_at", UTCDateTime),
    Column("national_investigation_concluded_at", UTCDateTime),
    Column("national_finding", String(32)),
    Column("repatriations", Integer, nullable=False),
    Column("sanctions", Integer, nullable=False),
    Column("prosecutions_concluded", Integer, nullable=False),
    Column("convictions", Integer, nullable=False),
    Column("acquittals", Integer, nullable=False),
    Column("dismissals", Integer, nullable=False),
    Column("sentence_months", Integer, nullable=False),
    Index("ix_country_cases_case", "case_id"),
)

state_commitments = Table(
    "state_commitments",
    metadata,
    Column("member_state", String(3), primary_key=True),
    Column("compact_signed_at", UTCDateTime),
    Column("last_sequence", Integer, nullable=False),
)


class CountryRecordProjection:
    name: Final = "country_record"
    version: Final = 1
    tables: Final = (country_case_facts, country_cases, state_commitments)

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        cases = [r for r in records if r.envelope.stream_id.startswith(CASE_STREAM_PREFIX)]
        states = [r for r in records if r.envelope.stream_id.startswith(STATE_STREAM_PREFIX)]
        if cases:
            self._apply_cases(conn, cases)
        if states:
            self._apply_states(conn, states)

    def _apply_cases(self, conn: Connection, records: Sequence[Record]) -> None:
        ids = [r.envelope.stream_id.removeprefix(CASE_STREAM_PREFIX) for r in records]
        facts = RowSet(country_case_facts)
        rows = RowSet(country_cases)
        facts.load(conn, country_case_facts.c.case_id, ids)
        rows.load(conn, country_cases.c.case_id, ids)
        by_case: dict[str, dict[str, Row]] = defaultdict(dict)
        for key, row in rows.items():
            by_case[key[1]][key[0]] = row
        for record in records:
            envelope = record.envelope
            case_id = envelope.stream_id.removeprefix(CASE_STREAM_PREFIX)
            fact = facts.get(case_id)
            if fact is not None and envelope.sequence <= fact["last_sequence"]:
                continue
            at = envelope.occurred_at
            if isinstance(envelope.payload, AllegationReported):
                fact = facts.put(
                    {
                        "case_id": case_id,
                        "received_at": at,
                        "un_investigation_opened_at": None,
                        "un_investigation_concluded_at": None,
                        "un_finding": None,
                        "last_sequence": envelope.sequence,
                    }
                )
                continue
            if fact is None:
                continue
            fact["last_sequence"] = envelope.sequence
            facts.touch(fact)
            involved = by_case[case_id]
            match envelope.payload:
                case AllegedPerpetratorIdentified() as e:
                    row = involved.get(e.nationality) or _new_row(e.nationality, case_id, fact)
                    involved[e.nationality] = row
                    row["categories"] = add_to_list(row["categories"], e.category.value)
                    row["perpetrators"] += 1
                    row["uniformed"] = row["uniformed"] or e.category.uniformed
                    rows.put(row)
                case MemberStateNotified() as e:
                    _update(
                        rows,
                        involved,
                        e.member_state,
                        notified_at=at,
                        nio_requested=e.nio_requested,
                    )
                case (
                    MemberStateRepliedIntentToInvestigate()
                    | MemberStateDeclinedToInvestigate() as e
                ):
                    replying = involved.get(e.member_state)
                    if replying is not None and replying["notified_at"] is not None:
                        notified_at = replying["notified_at"]
                        replying.update(
                            reply="intent"
                            if isinstance(e, MemberStateRepliedIntentToInvestigate)
                            else "declined",
                            replied_at=at,
                            reply_days=(at - notified_at).total_seconds() / 86400,
                            reply_working_days=count_working_days(notified_at, at),
                        )
                        rows.touch(replying)
                case NationalInvestigationOfficerAppointed() as e:
                    _update(rows, involved, e.member_state, nio_appointed_at=at)
                case InvestigationOpened(member_state=None):
                    fact["un_investigation_opened_at"] = at
                case InvestigationOpened(member_state=ms) if ms is not None:
                    _update(rows, involved, ms, national_investigation_opened_at=at)
                case InvestigationConcluded(member_state=None) as e:
                    fact.update(un_investigation_concluded_at=at, un_finding=e.finding.value)
                case InvestigationConcluded(member_state=ms) as e if ms is not None:
                    _update(
                        rows, involved, ms,
                        national_investigation_concluded_at=at, national_finding=e.finding.value,
                    )  # fmt: skip
                case PersonnelRepatriated() as e:
                    _increment(rows, involved, e.member_state, "repatriations")
                case SanctionImposed() as e:
                    _increment(rows, involved, e.member_state, "sanctions")
                case ProsecutionConcluded() as e:
                    _increment(rows, involved, e.member_state, "prosecutions_concluded")
                    counter = {
                        ProsecutionOutcome.CONVICTED: "convictions",
                        ProsecutionOutcome.ACQUITTED: "acquittals",
                        ProsecutionOutcome.DISMISSED: "dismissals",
                    }[e.outcome]
                    _increment(rows, involved, e.member_state, counter)
                    if e.sentence_months:
                        _increment(
                            rows, involved, e.member_state, "sentence_months", e.sentence_months
                        )
                case _:
                    pass
        facts.flush(conn)
        rows.flush(conn)

    def _apply_states(self, conn: Connection, records: Sequence[Record]) -> None:
        codes = [r.envelope.stream_id.removeprefix(STATE_STREAM_PREFIX) for r in records]
        rows = RowSet(state_commitments)
        rows.load(conn, state_commitments.c.member_state, codes)
        for record in records:
            envelope = record.envelope
            code = envelope.stream_id.removeprefix(STATE_STREAM_PREFIX)
            row: Row = rows.get(code) or {
                "member_state": code, "compact_signed_at": None, "last_sequence": 0,
            }  # fmt: skip
            if envelope.sequence <= row["last_sequence"]:
                continue
            if isinstance(envelope.payload, VoluntaryCompactSigned):
                row["compact_signed_at"] = envelope.occurred_at
            row["last_sequence"] = envelope.sequence
            rows.put(row)
        rows.flush(conn)


def _new_row(member_state: str, case_id: str, fact: Row) -> Row:
    return {
        "member_state": member_state,
        "case_id": case_id,
        "received_at": fact["received_at"],
        "categories": "",
        "perpetrators": 0,
        "uniformed": False,
        "notified_at": None,
        "nio_requested": None,
        "reply": None,
        "replied_at": None,
        "reply_days": None,
        "reply_working_days": None,
        "nio_appointed_at": None,
        "national_investigation_opened_at": None,
        "national_investigation_concluded_at": None,
        "national_finding": None,
        "repatriations": 0,
        "sanctions": 0,
        "prosecutions_concluded": 0,
        "convictions": 0,
        "acquittals": 0,
        "dismissals": 0,
        "sentence_months": 0,
    }


def _update(rows: RowSet, involved: dict[str, Row], member_state: str, **values: object) -> None:
    row = involved.get(member_state)
    if row is not None:
        row.update(values)
        rows.touch(row)


def _increment(
    rows: RowSet, involved: dict[str, Row], member_state: str, column: str, by: int = 1
) -> None:
    row = involved.get(member_state)
    if row is not None:
        row[column] += by
        rows.touch(row)
