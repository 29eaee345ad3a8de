"""The catalogue of events: past-tense facts, frozen, each with a schema version.

An event's payload holds the facts of the type only. When, by whom and in which
stream live in the envelope (``envelope.py``). No payload ever carries a victim's
identity: victims are recorded by age group and sex alone.
"""

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from .types import CaseId, CountryCode
from .vocabulary import (
    AgeGroup,
    AllegationType,
    ClosureReason,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
    SanctionAuthority,
    SanctionKind,
    Sex,
)


@dataclass(frozen=True, slots=True)
class AllegationReported:
    """The UN received an allegation; the envelope's ``occurred_at`` is the receipt."""

    schema_version: ClassVar[int] = 1
    case_id: CaseId
    allegation_type: AllegationType
    mission: str | None
    incident_date: date | None


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
class ProsecutionConcluded:
    schema_version: ClassVar[int] = 1
    perpetrator_id: str
    member_state: CountryCode
    outcome: ProsecutionOutcome
    sentence_months: int | None


@dataclass(frozen=True, slots=True)
class CaseClosed:
    schema_version: ClassVar[int] = 1
    reason: ClosureReason


@dataclass(frozen=True, slots=True)
class VoluntaryCompactSigned:
    """A Member State signed the Voluntary Compact with the Secretary-General."""

    schema_version: ClassVar[int] = 1
    member_state: CountryCode


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
    | PersonnelRepatriated
    | SanctionImposed
    | ProsecutionConcluded
    | CaseClosed
)
MemberStateEvent = VoluntaryCompactSigned
Event = CaseEvent | MemberStateEvent

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
        PersonnelRepatriated,
        SanctionImposed,
        ProsecutionConcluded,
        CaseClosed,
        VoluntaryCompactSigned,
    )
}
