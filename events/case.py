"""The state of one allegation case, folded from its own events.

Corrections refold the case: after an ``EventCorrected`` or ``EventRetracted`` the
state is the fold of the events in force (``history.py``), so a corrected
nationality changes which Member State may act and a retracted perpetrator is gone.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from .catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    CaseNoteAdded,
    CasePublished,
    CaseReopened,
    ChildSupportArranged,
    CriminalReferralMade,
    EventCorrected,
    EventRetracted,
    FollowUpRequested,
    InterimActionTaken,
    InvestigationConcluded,
    InvestigationOpened,
    MemberStateDeclinedToInvestigate,
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    NarrativeRecorded,
    NationalInvestigationOfficerAppointed,
    PaternityClaimFiled,
    PaternityEstablished,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    VictimAssistanceProvided,
    VictimDataErased,
    VictimRecorded,
)
from .envelope import Envelope, StreamHead
from .history import History
from .privacy import parse_sealed
from .types import CaseId, CaseStatus, CountryCode
from .vocabulary import (
    AgeGroup,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    Sex,
)

Reply = Literal["intent", "declined"]


@dataclass(frozen=True, slots=True)
class Perpetrator:
    perpetrator_id: str
    category: PersonnelCategory
    nationality: CountryCode
    sex: Sex


@dataclass(frozen=True, slots=True)
class Victim:
    victim_id: str
    age_group: AgeGroup
    sex: Sex


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One Member State's part in a case: notified, replied, investigator appointed."""

    member_state: CountryCode
    notified_at: datetime
    reply: Reply | None = None
    replied_at: datetime | None = None
    nio_appointed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Investigation:
    investigation_id: str
    entity: InvestigatingEntity
    member_state: CountryCode | None
    opened_at: datetime
    urgent: bool
    concluded_at: datetime | None = None
    finding: Finding | None = None


@dataclass(frozen=True, slots=True)
class PaternityClaim:
    """A claim and its state: the perpetrator's Member State, when it is named."""

    claim_id: str
    perpetrator_id: str | None
    member_state: CountryCode | None
    filed_at: datetime
    established_at: datetime | None = None
    support_arranged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseState:
    head: StreamHead = field(default_factory=StreamHead)
    case_id: CaseId | None = None
    status: CaseStatus | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None
    perpetrators: Mapping[str, Perpetrator] = field(default_factory=dict)
    victims: Mapping[str, Victim] = field(default_factory=dict)
    follow_ups: Mapping[CountryCode, FollowUp] = field(default_factory=dict)
    investigations: Mapping[str, Investigation] = field(default_factory=dict)
    repatriated: frozenset[str] = frozenset()
    referred: Mapping[str, datetime] = field(default_factory=dict)
    """When each perpetrator was referred to the national authorities."""
    prosecuted: frozenset[str] = frozenset()
    claims: Mapping[str, PaternityClaim] = field(default_factory=dict)
    text_key_id: str | None = None
    """The key the case's narrative and notes are sealed with, once one is recorded."""
    erased_at: datetime | None = None
    """When the case's key was destroyed; no text is taken after that."""
    history: History = field(default_factory=History)
    command_ids: frozenset[str] = frozenset()

    @property
    def reported(self) -> bool:
        return self.case_id is not None

    @property
    def withdrawn(self) -> bool:
        """The allegation's report was retracted: the case never was."""
        return any(
            r.retracted and isinstance(r.envelope.payload, AllegationReported)
            for r in self.history.records.values()
        )

    @property
    def nationalities(self) -> frozenset[CountryCode]:
        return frozenset(p.nationality for p in self.perpetrators.values())

    def involves(self, member_state: CountryCode) -> bool:
        """A case involves a Member State when one of the alleged perpetrators is its national."""
        return member_state in self.nationalities

    def substantiated_for(self, member_state: CountryCode) -> datetime | None:
        """When a finding bearing on ``member_state``'s nationals was first substantiated.

        A UN finding (OIOS or the entity's own investigators) bears on every national
        in the case; a national investigation only on the nationals of the state that
        ran it.
        """
        instants = [
            i.concluded_at
            for i in self.investigations.values()
            if i.finding is Finding.SUBSTANTIATED
            and i.concluded_at is not None
            and i.member_state in (None, member_state)
        ]
        return min(instants, default=None)


def evolve_case(state: CaseState, envelope: Envelope) -> CaseState:
    """The state after one more event of the stream. Pure; never raises on a valid stream."""
    state = replace(
        state,
        head=envelope.head,
        command_ids=state.command_ids | {envelope.command_id},
        history=state.history.record(envelope),
    )
    if isinstance(envelope.payload, EventCorrected | EventRetracted):
        return refold_case(state)
    return _apply(state, envelope)


def refold_case(state: CaseState) -> CaseState:
    """The case folded again from its events in force; head and history stay."""
    folded = CaseState(head=state.head, history=state.history, command_ids=state.command_ids)
    for envelope in state.history.in_force():
        folded = _apply(folded, envelope)
    return folded


def _apply(state: CaseState, envelope: Envelope) -> CaseState:
    at = envelope.occurred_at
    match envelope.payload:
        case AllegationReported(case_id=case_id):
            return replace(state, case_id=case_id, status="open", received_at=at)
        case AllegedPerpetratorIdentified() as e:
            perpetrator = Perpetrator(e.perpetrator_id, e.category, e.nationality, e.sex)
            return replace(
                state, perpetrators={**state.perpetrators, e.perpetrator_id: perpetrator}
            )
        case VictimRecorded() as e:
            victim = Victim(e.victim_id, e.age_group, e.sex)
            return replace(state, victims={**state.victims, e.victim_id: victim})
        case MemberStateNotified(member_state=ms):
            return replace(state, follow_ups={**state.follow_ups, ms: FollowUp(ms, at)})
        case MemberStateRepliedIntentToInvestigate(member_state=ms):
            return _with_follow_up(state, ms, reply="intent", replied_at=at)
        case MemberStateDeclinedToInvestigate(member_state=ms):
            return _with_follow_up(state, ms, reply="declined", replied_at=at)
        case NationalInvestigationOfficerAppointed(member_state=ms):
            return _with_follow_up(state, ms, nio_appointed_at=at)
        case InvestigationOpened() as e:
            investigation = Investigation(
                e.investigation_id, e.entity, e.member_state, at, e.urgent
            )
            return replace(
                state, investigations={**state.investigations, e.investigation_id: investigation}
            )
        case InvestigationConcluded() as e:
            opened = state.investigations[e.investigation_id]
            concluded = replace(opened, concluded_at=at, finding=e.finding)
            return replace(
                state, investigations={**state.investigations, e.investigation_id: concluded}
            )
        case PersonnelRepatriated(perpetrator_id=pid):
            return replace(state, repatriated=state.repatriated | {pid})
        case CriminalReferralMade(perpetrator_id=pid):
            return replace(state, referred={**state.referred, pid: at})
        case ProsecutionConcluded(perpetrator_id=pid):
            return replace(state, prosecuted=state.prosecuted | {pid})
        case PaternityClaimFiled() as e:
            claim = PaternityClaim(e.claim_id, e.perpetrator_id, e.member_state, at)
            return replace(state, claims={**state.claims, e.claim_id: claim})
        case PaternityEstablished(claim_id=cid):
            return _with_claim(state, cid, established_at=at)
        case ChildSupportArranged(claim_id=cid):
            return _with_claim(state, cid, support_arranged_at=at)
        case NarrativeRecorded(text=text) | CaseNoteAdded(text=text):
            return replace(state, text_key_id=state.text_key_id or parse_sealed(text).key_id)
        case VictimDataErased():
            return replace(state, erased_at=state.erased_at or at)
        case CasePublished():
            return replace(state, published_at=at)
        case CaseClosed():
            return replace(state, status="closed", closed_at=at)
        case CaseReopened():
            return replace(state, status="open", closed_at=None)
        case (
            InterimActionTaken()
            | SanctionImposed()
            | FollowUpRequested()
            | VictimAssistanceProvided()
        ):
            return state
        case _:
            raise TypeError(f"{envelope.type} is not an event of a case stream")


def _with_follow_up(
    state: CaseState,
    member_state: CountryCode,
    *,
    reply: Reply | None = None,
    replied_at: datetime | None = None,
    nio_appointed_at: datetime | None = None,
) -> CaseState:
    current = state.follow_ups[member_state]
    updated = replace(
        current,
        reply=reply or current.reply,
        replied_at=replied_at or current.replied_at,
        nio_appointed_at=nio_appointed_at or current.nio_appointed_at,
    )
    return replace(state, follow_ups={**state.follow_ups, member_state: updated})


def _with_claim(
    state: CaseState,
    claim_id: str,
    *,
    established_at: datetime | None = None,
    support_arranged_at: datetime | None = None,
) -> CaseState:
    current = state.claims[claim_id]
    updated = replace(
        current,
        established_at=established_at or current.established_at,
        support_arranged_at=support_arranged_at or current.support_arranged_at,
    )
    return replace(state, claims={**state.claims, claim_id: updated})
