"""What a case's events say, folded: the facts every case read model is made from.

Pure. A stream's *effective* events are its events with their latest correction
applied and retracted ones left out, as known at some instant; folding them gives
the case as it stood then. The read models store one version of these facts per
instant at which they changed, so any question can be asked "as of" any instant.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from accountability.events.catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    CaseNoteAdded,
    CasePublished,
    CaseReopened,
    ChildSupportArranged,
    CircleOfLeadershipJoined,
    CriminalReferralMade,
    Event,
    EventCorrected,
    EventRetracted,
    FocalPointDesignated,
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
    TrustFundContributionMade,
    VictimAssistanceProvided,
    VictimDataErased,
    VictimRecorded,
    VoluntaryCompactSigned,
)
from accountability.events.history import decode_corrected
from accountability.events.vocabulary import (
    AgeGroup,
    Finding,
    FocalPointRole,
    Sex,
    UnStatus,
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of a stream as a read model keeps it: enough to fold it again."""

    sequence: int
    event_id: str
    type: str
    schema_version: int
    payload: Event
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Effective:
    """An event as it stands after corrections: its payload and when it happened."""

    sequence: int
    event_id: str
    payload: Event
    occurred_at: datetime


def effective_events(
    events: Sequence[StoredEvent], as_of: datetime | None = None
) -> list[Effective]:
    """The stream's events known at ``as_of``, each with its latest correction, none retracted."""
    known = [e for e in events if as_of is None or e.recorded_at <= as_of]
    corrected: dict[str, tuple[Event, datetime | None]] = {}
    retracted: set[str] = set()
    by_id = {e.event_id: e for e in known}
    for event in known:
        match event.payload:
            case EventCorrected(event_id=target) as correction:
                original = by_id.get(target)
                if original is not None:
                    corrected[target] = (
                        decode_corrected(
                            original.payload,
                            correction.corrected_payload,
                            correction.corrected_schema_version,
                        ),
                        correction.corrected_occurred_at,
                    )
            case EventRetracted(event_id=target):
                retracted.add(target)
            case _:
                pass
    result = []
    for event in known:
        if isinstance(event.payload, EventCorrected | EventRetracted):
            continue
        if event.event_id in retracted:
            continue
        payload: Event = event.payload
        occurred_at = event.occurred_at
        if event.event_id in corrected:
            payload, new_instant = corrected[event.event_id]
            occurred_at = new_instant or occurred_at
        result.append(Effective(event.sequence, event.event_id, payload, occurred_at))
    return result


# --- a case -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sanction:
    kind: str
    imposed_by: str
    months: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Prosecution:
    outcome: str
    sentence_months: int | None
    at: datetime


@dataclass(slots=True)
class Perpetrator:
    perpetrator_id: str
    category: str
    nationality: str
    sex: str
    interim_actions: list[tuple[str, datetime]] = field(default_factory=list)
    repatriated_at: datetime | None = None
    referred_at: datetime | None = None
    sanctions: list[Sanction] = field(default_factory=list)
    prosecution: Prosecution | None = None


@dataclass(slots=True)
class Victim:
    victim_id: str
    age_group: str
    sex: str
    assistance: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FollowUp:
    member_state: str
    notified_at: datetime
    nio_requested: bool
    reply: str | None = None
    replied_at: datetime | None = None
    nio_appointed_at: datetime | None = None
    follow_up_requests: list[datetime] = field(default_factory=list)


@dataclass(slots=True)
class Investigation:
    investigation_id: str
    entity: str
    member_state: str | None
    urgent: bool
    opened_at: datetime
    concluded_at: datetime | None = None
    finding: str | None = None
    victims_interviewed: bool | None = None
    days_taken: int | None = None


@dataclass(slots=True)
class Claim:
    claim_id: str
    perpetrator_id: str | None
    member_state: str | None
    filed_at: datetime
    established_at: datetime | None = None
    support_arranged_at: datetime | None = None


@dataclass(slots=True)
class CaseText:
    """A narrative or note as the read models keep it: sealed, and gone once erased."""

    at: datetime
    sealed: str | None
    note_id: str | None = None


@dataclass(slots=True)
class CaseFacts:
    case_id: str
    received_at: datetime
    allegation_type: str
    entity: str
    entity_name: str | None
    mission: str | None
    incident_date: date | None
    incident_date_precision: str
    perpetrators: dict[str, Perpetrator] = field(default_factory=dict)
    victims: dict[str, Victim] = field(default_factory=dict)
    follow_ups: dict[str, FollowUp] = field(default_factory=dict)
    investigations: dict[str, Investigation] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    published_at: datetime | None = None
    published_reference: str | None = None
    closed_at: datetime | None = None
    closure_reason: str | None = None
    reopened: int = 0
    narrative: CaseText | None = None
    notes: dict[str, CaseText] = field(default_factory=dict)
    erased_at: datetime | None = None
    erasure_reason: str | None = None

    @property
    def status(self) -> str:
        return "closed" if self.closed_at is not None else "open"

    def substantiated_for(self, member_state: str) -> bool:
        """A UN finding bears on every national in the case, a national one on its own."""
        return any(
            i.finding == Finding.SUBSTANTIATED.value and i.member_state in (None, member_state)
            for i in self.investigations.values()
        )

    @property
    def substantiated(self) -> bool:
        return any(i.finding == Finding.SUBSTANTIATED.value for i in self.investigations.values())

    @property
    def un_status(self) -> UnStatus:
        """The case's status in the UN's own vocabulary (the derivation is in the README)."""
        concluded = [i for i in self.investigations.values() if i.finding is not None]
        if concluded:
            return UnStatus.SUBSTANTIATED if self.substantiated else UnStatus.NOT_SUBSTANTIATED
        if self.closed_at is not None:
            return UnStatus.CLOSED_OTHER
        running = [i for i in self.investigations.values() if i.concluded_at is None]
        if any(i.member_state is not None for i in running):
            return UnStatus.PENDING_MEMBER_STATE
        if running:
            return UnStatus.UNDER_INVESTIGATION
        if any(f.reply == "intent" for f in self.follow_ups.values()):
            return UnStatus.PENDING_MEMBER_STATE
        if not self.perpetrators:
            return UnStatus.LIMITED_INFORMATION
        return UnStatus.PRELIMINARY_ASSESSMENT

    def involved_states(self) -> list[str]:
        """Every state with a national among the alleged perpetrators, or notified."""
        states = {p.nationality for p in self.perpetrators.values()} | set(self.follow_ups)
        return sorted(states)


def fold_case(events: Iterable[Effective], facts: CaseFacts | None = None) -> CaseFacts | None:
    """The case the effective events describe; None when it was never (or no longer) reported.

    Given ``facts``, the case as folded from the events before these, the fold goes on
    from there, changing ``facts`` in place.
    """
    for event in events:
        payload = event.payload
        if isinstance(payload, AllegationReported):
            facts = CaseFacts(
                case_id=payload.case_id,
                received_at=event.occurred_at,
                allegation_type=payload.allegation_type.value,
                entity=payload.entity.value,
                entity_name=payload.entity_name,
                mission=payload.mission,
                incident_date=payload.incident_date,
                incident_date_precision=payload.incident_date_precision.value,
            )
        elif facts is not None:
            _apply(facts, payload, event.occurred_at)
    return facts


def _apply(facts: CaseFacts, payload: Event, at: datetime) -> None:
    match payload:
        case AllegedPerpetratorIdentified() as e:
            facts.perpetrators[e.perpetrator_id] = Perpetrator(
                e.perpetrator_id, e.category.value, e.nationality, e.sex.value
            )
        case VictimRecorded() as e:
            facts.victims[e.victim_id] = Victim(e.victim_id, e.age_group.value, e.sex.value)
        case MemberStateNotified() as e:
            facts.follow_ups[e.member_state] = FollowUp(e.member_state, at, e.nio_requested)
        case MemberStateRepliedIntentToInvestigate(member_state=ms) if ms in facts.follow_ups:
            facts.follow_ups[ms].reply, facts.follow_ups[ms].replied_at = "intent", at
        case MemberStateDeclinedToInvestigate(member_state=ms) if ms in facts.follow_ups:
            facts.follow_ups[ms].reply, facts.follow_ups[ms].replied_at = "declined", at
        case NationalInvestigationOfficerAppointed(member_state=ms) if ms in facts.follow_ups:
            facts.follow_ups[ms].nio_appointed_at = at
        case FollowUpRequested(member_state=ms) if ms in facts.follow_ups:
            facts.follow_ups[ms].follow_up_requests.append(at)
        case InvestigationOpened() as e:
            facts.investigations[e.investigation_id] = Investigation(
                e.investigation_id, e.entity.value, e.member_state, e.urgent, at
            )
        case InvestigationConcluded() as e if e.investigation_id in facts.investigations:
            investigation = facts.investigations[e.investigation_id]
            investigation.concluded_at = at
            investigation.finding = e.finding.value
            investigation.victims_interviewed = e.victims_interviewed
            investigation.days_taken = e.days_taken
        case InterimActionTaken() as e if e.perpetrator_id in facts.perpetrators:
            facts.perpetrators[e.perpetrator_id].interim_actions.append((e.action.value, at))
        case PersonnelRepatriated() as e if e.perpetrator_id in facts.perpetrators:
            facts.perpetrators[e.perpetrator_id].repatriated_at = at
        case CriminalReferralMade() as e if e.perpetrator_id in facts.perpetrators:
            facts.perpetrators[e.perpetrator_id].referred_at = at
        case SanctionImposed() as e if e.perpetrator_id in facts.perpetrators:
            facts.perpetrators[e.perpetrator_id].sanctions.append(
                Sanction(e.kind.value, e.imposed_by.value, e.months, at)
            )
        case ProsecutionConcluded() as e if e.perpetrator_id in facts.perpetrators:
            facts.perpetrators[e.perpetrator_id].prosecution = Prosecution(
                e.outcome.value, e.sentence_months, at
            )
        case CasePublished() as e:
            facts.published_at = facts.published_at or at
            facts.published_reference = e.reference or facts.published_reference
        case CaseClosed() as e:
            facts.closed_at, facts.closure_reason = at, e.reason.value
        case CaseReopened():
            facts.closed_at, facts.closure_reason = None, None
            facts.reopened += 1
        case PaternityClaimFiled() as e:
            facts.claims[e.claim_id] = Claim(e.claim_id, e.perpetrator_id, e.member_state, at)
        case PaternityEstablished() as e if e.claim_id in facts.claims:
            facts.claims[e.claim_id].established_at = at
        case ChildSupportArranged() as e if e.claim_id in facts.claims:
            facts.claims[e.claim_id].support_arranged_at = at
        case VictimAssistanceProvided() as e if e.victim_id in facts.victims:
            victim = facts.victims[e.victim_id]
            victim.assistance = sorted(set(victim.assistance) | {k.value for k in e.kinds})
        case NarrativeRecorded() as e:
            facts.narrative = CaseText(at, None if facts.erased_at else e.text)
        case CaseNoteAdded() as e:
            facts.notes[e.note_id] = CaseText(at, None if facts.erased_at else e.text, e.note_id)
        case VictimDataErased() as e:
            # The key is gone: the read models keep that there was text, not its ciphertext.
            facts.erased_at, facts.erasure_reason = facts.erased_at or at, e.reason.value
            for text in (facts.narrative, *facts.notes.values()):
                if text is not None:
                    text.sealed = None
        case _:
            pass  # a step that refers to something since retracted changes nothing


# --- the UN's victim and perpetrator groups ------------------------------------------


VICTIM_GROUPS = (
    "women", "girls", "females_unknown_age", "men", "boys", "males_unknown_age", "sex_unknown",
)  # fmt: skip


def victim_group(age_group: str, sex: str) -> str:
    """The UN table's column for a victim: women, girls, …, sex unknown."""
    if sex == Sex.UNKNOWN.value:
        return "sex_unknown"
    female = sex == Sex.FEMALE.value
    if age_group == AgeGroup.ADULT.value:
        return "women" if female else "men"
    if age_group == AgeGroup.CHILD.value:
        return "girls" if female else "boys"
    return "females_unknown_age" if female else "males_unknown_age"


def perpetrator_group(sex: str) -> str:
    return {"male": "men", "female": "women"}.get(sex, "unknown")


# --- a Member State's commitments ------------------------------------------------------


@dataclass(slots=True)
class Commitments:
    member_state: str
    compact_signed_at: datetime | None = None
    circle_joined_at: datetime | None = None
    trust_fund_usd: int = 0
    trust_fund_contributions: int = 0
    paternity_focal_point_at: datetime | None = None
    sea_focal_point_at: datetime | None = None


def fold_commitments(member_state: str, events: Iterable[Effective]) -> Commitments:
    facts = Commitments(member_state)
    for event in events:
        match event.payload:
            case VoluntaryCompactSigned():
                facts.compact_signed_at = event.occurred_at
            case CircleOfLeadershipJoined():
                facts.circle_joined_at = event.occurred_at
            case TrustFundContributionMade(amount_usd=amount):
                facts.trust_fund_usd += amount
                facts.trust_fund_contributions += 1
            case FocalPointDesignated(role=FocalPointRole.PATERNITY):
                facts.paternity_focal_point_at = event.occurred_at
            case FocalPointDesignated(role=FocalPointRole.SEA):
                facts.sea_focal_point_at = event.occurred_at
            case _:
                pass
    return facts
