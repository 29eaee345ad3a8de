"""The catalogue of events: past-tense facts, frozen, each with a schema version.

An event's payload holds the facts of the type only. When, by whom and in which
stream live in the envelope (``envelope.py``). No payload ever carries a victim's
identity: victims are recorded by age group and sex alone, and sensitive free text
(narratives, notes) only as ciphertext under the case's key (``privacy.py``).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from .privacy import SealedText
from .types import CaseId, CountryCode
from .vocabulary import (
    AgeGroup,
    AllegationType,
    AssistanceKind,
    ClosureReason,
    DatePrecision,
    EntityKind,
    ErasureReason,
    Finding,
    FocalPointRole,
    InterimAction,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
    ReopenReason,
    SanctionAuthority,
    SanctionKind,
    Sex,
)


@dataclass(frozen=True, slots=True)
class AllegationReported:
    """The UN received an allegation; the envelope's ``occurred_at`` is the receipt.

    Version 2 added the entity and the precision of the incident date; version 1
    payloads are upcast (``events/upcasters.py``).
    """

    schema_version: ClassVar[int] = 2
    case_id: CaseId
    allegation_type: AllegationType
    entity: EntityKind
    entity_name: str | None
    mission: str | None
    incident_date: date | None
    incident_date_precision: DatePrecision


@dataclass(frozen=True, slots=True)
class AllegedPerpetratorIdentified:
    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    category: PersonnelCategory
    nationality: CountryCode
    sex: Sex


@dataclass(frozen=True, slots=True)
class VictimRecorded:
    """A victim counted by age group and sex; never a name or any identifying detail."""

    schema_version: ClassVar[int] = 1
    victim_id: str
    age_group: AgeGroup
    sex: Sex


@dataclass(frozen=True, slots=True)
class MemberStateNotified:
    """The UN referred the case to the Member State's Permanent Mission."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode
    nio_requested: bool


@dataclass(frozen=True, slots=True)
class MemberStateRepliedIntentToInvestigate:
    schema_version: ClassVar[int] = 1
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class MemberStateDeclinedToInvestigate:
    schema_version: ClassVar[int] = 1
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class NationalInvestigationOfficerAppointed:
    schema_version: ClassVar[int] = 1
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class InvestigationOpened:
    """An investigation by the UN (OIOS) or by the Member State (TCC, PCC, NIO)."""

    schema_version: ClassVar[int] = 1
    investigation_id: str
    entity: InvestigatingEntity
    member_state: CountryCode | None
    urgent: bool


@dataclass(frozen=True, slots=True)
class InvestigationConcluded:
    schema_version: ClassVar[int] = 1
    investigation_id: str
    entity: InvestigatingEntity
    member_state: CountryCode | None
    finding: Finding
    victims_interviewed: bool
    days_taken: int


@dataclass(frozen=True, slots=True)
class InterimActionTaken:
    """A measure pending the outcome: payments suspended, repatriation pending, …"""

    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    member_state: CountryCode
    action: InterimAction


@dataclass(frozen=True, slots=True)
class PersonnelRepatriated:
    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    member_state: CountryCode
    disciplinary: bool


@dataclass(frozen=True, slots=True)
class SanctionImposed:
    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    member_state: CountryCode
    imposed_by: SanctionAuthority
    kind: SanctionKind
    months: int | None


@dataclass(frozen=True, slots=True)
class CriminalReferralMade:
    """The case was referred to the national authorities of the perpetrator's state."""

    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class ProsecutionConcluded:
    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    member_state: CountryCode
    outcome: ProsecutionOutcome
    sentence_months: int | None


@dataclass(frozen=True, slots=True)
class FollowUpRequested:
    """The UN asked the Member State again for progress or the outcome."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class CasePublished:
    """The case appears in the UN's public table of allegations."""

    schema_version: ClassVar[int] = 1
    reference: str | None


@dataclass(frozen=True, slots=True)
class CaseClosed:
    schema_version: ClassVar[int] = 1
    reason: ClosureReason


@dataclass(frozen=True, slots=True)
class CaseReopened:
    schema_version: ClassVar[int] = 1
    reason: ReopenReason


@dataclass(frozen=True, slots=True)
class PaternityClaimFiled:
    """A paternity claim; the child and the claimant are never identified here."""

    schema_version: ClassVar[int] = 1
    claim_id: str
    perpetrator_id: str | None
    member_state: CountryCode | None


@dataclass(frozen=True, slots=True)
class PaternityEstablished:
    schema_version: ClassVar[int] = 1
    claim_id: str


@dataclass(frozen=True, slots=True)
class ChildSupportArranged:
    schema_version: ClassVar[int] = 1
    claim_id: str


@dataclass(frozen=True, slots=True)
class VictimAssistanceProvided:
    schema_version: ClassVar[int] = 1
    victim_id: str
    kinds: tuple[AssistanceKind, ...]


@dataclass(frozen=True, slots=True)
class NarrativeRecorded:
    """The allegation's account as received, sealed with the case's key; the latest is in force."""

    schema_version: ClassVar[int] = 1
    text: SealedText


@dataclass(frozen=True, slots=True)
class CaseNoteAdded:
    """A note on the case, sealed with the case's key."""

    schema_version: ClassVar[int] = 1
    note_id: str
    text: SealedText


@dataclass(frozen=True, slots=True)
class VictimDataErased:
    """The case's key was destroyed: its sealed narrative and notes can never be read again.

    ``key_id`` names the key its texts were sealed with (None when none was recorded).
    Every event, and every hash, stays as it was.
    """

    schema_version: ClassVar[int] = 1
    key_id: str | None
    reason: ErasureReason


@dataclass(frozen=True, slots=True)
class VoluntaryCompactSigned:
    """A Member State signed the Voluntary Compact with the Secretary-General."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class CircleOfLeadershipJoined:
    """The Member State's head of state or government joined the Circle of Leadership."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class TrustFundContributionMade:
    """A contribution to the Trust Fund in Support of Victims, in whole US dollars."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode
    amount_usd: int


@dataclass(frozen=True, slots=True)
class FocalPointDesignated:
    schema_version: ClassVar[int] = 1
    member_state: CountryCode
    role: FocalPointRole


@dataclass(frozen=True, slots=True)
class SigningKeyRegistered:
    """A Member State's Ed25519 public key (raw, base64): from now on its principals sign.

    ``key_id`` is the first 16 hex digits of SHA-256 over the raw 32-byte key.
    """

    schema_version: ClassVar[int] = 1
    member_state: CountryCode
    key_id: str
    public_key: str


@dataclass(frozen=True, slots=True)
class SigningKeyRevoked:
    """A Member State's key signs nothing from now on; what it signed before stays signed."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode
    key_id: str


@dataclass(frozen=True, slots=True)
class EventCorrected:
    """An earlier event of the same stream, as it should have been recorded.

    ``corrected_payload`` is the whole corrected payload, canonical JSON of the
    corrected event's own type at ``corrected_schema_version``; the corrected event
    itself, and its hash, stay as they were. The latest correction of an event is the
    one in force.
    """

    schema_version: ClassVar[int] = 1
    event_id: str
    corrected_payload: str
    corrected_occurred_at: datetime | None
    reason: str
    corrected_schema_version: int


@dataclass(frozen=True, slots=True)
class EventRetracted:
    """An earlier event of the same stream that should not have been recorded."""

    schema_version: ClassVar[int] = 1
    event_id: str
    reason: str


CaseEvent = (
    AllegationReported
    | AllegedPerpetratorIdentified
    | VictimRecorded
    | MemberStateNotified
    | MemberStateRepliedIntentToInvestigate
    | MemberStateDeclinedToInvestigate
    | NationalInvestigationOfficerAppointed
    | InvestigationOpened
    | InvestigationConcluded
    | InterimActionTaken
    | PersonnelRepatriated
    | SanctionImposed
    | CriminalReferralMade
    | ProsecutionConcluded
    | FollowUpRequested
    | CasePublished
    | CaseClosed
    | CaseReopened
    | PaternityClaimFiled
    | PaternityEstablished
    | ChildSupportArranged
    | VictimAssistanceProvided
    | NarrativeRecorded
    | CaseNoteAdded
    | VictimDataErased
)
MemberStateEvent = (
    VoluntaryCompactSigned
    | CircleOfLeadershipJoined
    | TrustFundContributionMade
    | FocalPointDesignated
    | SigningKeyRegistered
    | SigningKeyRevoked
)
Correction = EventCorrected | EventRetracted
Event = CaseEvent | MemberStateEvent | Correction

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        AllegationReported,
        AllegedPerpetratorIdentified,
        VictimRecorded,
        MemberStateNotified,
        MemberStateRepliedIntentToInvestigate,
        MemberStateDeclinedToInvestigate,
        NationalInvestigationOfficerAppointed,
        InvestigationOpened,
        InvestigationConcluded,
        InterimActionTaken,
        PersonnelRepatriated,
        SanctionImposed,
        CriminalReferralMade,
        ProsecutionConcluded,
        FollowUpRequested,
        CasePublished,
        CaseClosed,
        CaseReopened,
        PaternityClaimFiled,
        PaternityEstablished,
        ChildSupportArranged,
        VictimAssistanceProvided,
        NarrativeRecorded,
        CaseNoteAdded,
        VictimDataErased,
        VoluntaryCompactSigned,
        CircleOfLeadershipJoined,
        TrustFundContributionMade,
        FocalPointDesignated,
        SigningKeyRegistered,
        SigningKeyRevoked,
        EventCorrected,
        EventRetracted,
    )
}

SealedTextEvent = NarrativeRecorded | CaseNoteAdded
"""Events whose ``text`` is sealed with the case's key."""
