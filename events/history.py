"""A stream's own events as recorded, and the version of each that is in force.

A correction never touches the event it corrects: the envelope, its bytes and its hash
stay as they were, and a later ``EventCorrected`` or ``EventRetracted`` says what is in
force now. The decider keeps this history in its state so that it can check a
correction against the event it names and fold the stream again from the events in
force (:meth:`History.in_force`).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from .catalogue import (
    AllegedPerpetratorIdentified,
    CaseNoteAdded,
    ChildSupportArranged,
    CriminalReferralMade,
    Event,
    EventCorrected,
    EventRetracted,
    FollowUpRequested,
    InterimActionTaken,
    InvestigationConcluded,
    InvestigationOpened,
    MemberStateDeclinedToInvestigate,
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    NationalInvestigationOfficerAppointed,
    PaternityClaimFiled,
    PaternityEstablished,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    VictimAssistanceProvided,
    VictimRecorded,
)
from .codec import from_json_object, loads_object, upcast
from .envelope import Envelope
from .types import EventId
from .upcasters import UPCASTERS

Kind = Literal[
    "perpetrator", "victim", "investigation", "claim", "notification", "paternity", "note"
]
Key = tuple[Kind, str]
"""Something an event brings into a case that later events refer to: ("claim", "C1")."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One event of the stream: as recorded, and as in force after its corrections."""

    envelope: Envelope
    payload: Event
    occurred_at: datetime
    retracted: bool = False

    @property
    def event_id(self) -> EventId:
        return self.envelope.event_id

    @property
    def is_correction(self) -> bool:
        return isinstance(self.envelope.payload, EventCorrected | EventRetracted)

    @property
    def in_force(self) -> bool:
        return not self.retracted and not self.is_correction

    def as_in_force(self) -> Envelope:
        """The envelope with the payload and instant in force (not the recorded bytes)."""
        return replace(self.envelope, payload=self.payload, occurred_at=self.occurred_at)


@dataclass(frozen=True, slots=True)
class History:
    """Every event of one stream by id, in stream order, corrections included."""

    records: Mapping[EventId, Recorded] = field(default_factory=dict)

    def get(self, event_id: str) -> Recorded | None:
        return self.records.get(EventId(event_id))

    def record(self, envelope: Envelope) -> "History":
        """The history with one more event; a correction updates what is in force."""
        records = {**self.records}
        records[envelope.event_id] = Recorded(envelope, envelope.payload, envelope.occurred_at)
        match envelope.payload:
            case EventCorrected() as e:
                target = records[EventId(e.event_id)]
                records[target.event_id] = replace(
                    target,
                    payload=decode_corrected(
                        target.envelope.payload, e.corrected_payload, e.corrected_schema_version
                    ),
                    occurred_at=e.corrected_occurred_at or target.envelope.occurred_at,
                )
            case EventRetracted() as e:
                target = records[EventId(e.event_id)]
                records[target.event_id] = replace(target, retracted=True)
        return History(records)

    def in_force(self) -> Iterator[Envelope]:
        """The stream as it should have been recorded: corrected, without retracted events."""
        for recorded in self.records.values():
            if recorded.in_force:
                yield recorded.as_in_force()

    def taken(self, kind: Kind) -> frozenset[str]:
        """Identifiers of ``kind`` ever recorded, retracted ones too: they are never reused."""
        return frozenset(
            name
            for recorded in self.records.values()
            for key_kind, name in introduces(recorded.envelope.payload)
            if key_kind == kind
        )

    def dependents(self, target: Recorded) -> list[Recorded]:
        """Events in force that refer to what ``target`` introduced."""
        keys = introduces(target.payload)
        return [
            recorded
            for recorded in self.records.values()
            if recorded.in_force
            and recorded.event_id != target.event_id
            and keys & refers_to(recorded.payload)
        ]


def decode_corrected(original: Event, corrected_payload: str, version: int | None = None) -> Event:
    """A corrected payload as an event of the corrected event's own type, brought from the
    version it was written at (``version``; default: the current one) to the current one."""
    cls = type(original)
    data = loads_object(corrected_payload, "corrected_payload")
    if version is not None:
        data = upcast(cls.__name__, version, data, cls.schema_version, UPCASTERS)
    return from_json_object(cls, data)


def introduces(event: Event) -> frozenset[Key]:
    match event:
        case AllegedPerpetratorIdentified(perpetrator_id=pid):
            return frozenset({("perpetrator", pid)})
        case VictimRecorded(victim_id=vid):
            return frozenset({("victim", vid)})
        case MemberStateNotified(member_state=ms):
            return frozenset({("notification", ms)})
        case InvestigationOpened(investigation_id=iid):
            return frozenset({("investigation", iid)})
        case PaternityClaimFiled(claim_id=cid):
            return frozenset({("claim", cid)})
        case PaternityEstablished(claim_id=cid):
            return frozenset({("paternity", cid)})
        case CaseNoteAdded(note_id=nid):
            return frozenset({("note", nid)})
    return frozenset()


def refers_to(event: Event) -> frozenset[Key]:
    """What an event needs in force: its perpetrator, its notification, its claim, …"""
    match event:
        case (
            MemberStateRepliedIntentToInvestigate(member_state=ms)
            | MemberStateDeclinedToInvestigate(member_state=ms)
            | NationalInvestigationOfficerAppointed(member_state=ms)
            | FollowUpRequested(member_state=ms)
        ):
            return frozenset({("notification", ms)})
        case InvestigationOpened(member_state=ms) if ms is not None:
            return frozenset({("notification", ms)})
        case InvestigationConcluded(investigation_id=iid):
            return frozenset({("investigation", iid)})
        case (
            InterimActionTaken(perpetrator_id=pid)
            | PersonnelRepatriated(perpetrator_id=pid)
            | SanctionImposed(perpetrator_id=pid)
            | CriminalReferralMade(perpetrator_id=pid)
            | ProsecutionConcluded(perpetrator_id=pid)
        ):
            return frozenset({("perpetrator", pid)})
        case PaternityClaimFiled(perpetrator_id=str() as pid):
            return frozenset({("perpetrator", pid)})
        case PaternityEstablished(claim_id=cid):
            return frozenset({("claim", cid)})
        case ChildSupportArranged(claim_id=cid):
            return frozenset({("claim", cid), ("paternity", cid)})
        case VictimAssistanceProvided(victim_id=vid):
            return frozenset({("victim", vid)})
    return frozenset()
