"""The closed vocabularies of the domain, named as the UN names them (DOMAIN.md)."""

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    OFFICER = "officer"
    MEMBER_STATE = "member_state"
    OVERSIGHT = "oversight"


class PersonnelCategory(StrEnum):
    """Categories of personnel with the codes of the UN's table of allegations."""

    CIVILIAN_INT = "INT"
    CIVILIAN_NS = "NS"
    CIVILIAN_UNV = "UNV"
    MILITARY_MC = "MC"
    MILITARY_MO = "MO"
    POLICE_UNPOL = "UNPOL"
    POLICE_FPU = "FPU"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]

    @property
    def uniformed(self) -> bool:
        """Uniformed personnel are the contributing Member State's to hold to account."""
        return self in UNIFORMED


_CATEGORY_LABELS: Final = {
    PersonnelCategory.CIVILIAN_INT: "Civilian (INT)",
    PersonnelCategory.CIVILIAN_NS: "Civilian (NS)",
    PersonnelCategory.CIVILIAN_UNV: "Civilian (UNV)",
    PersonnelCategory.MILITARY_MC: "Military (MC)",
    PersonnelCategory.MILITARY_MO: "Military (MO)",
    PersonnelCategory.POLICE_UNPOL: "Police (UNPOL)",
    PersonnelCategory.POLICE_FPU: "Police (FPU)",
}

UNIFORMED: Final = frozenset(
    {
        PersonnelCategory.MILITARY_MC,
        PersonnelCategory.MILITARY_MO,
        PersonnelCategory.POLICE_UNPOL,
        PersonnelCategory.POLICE_FPU,
    }
)


class AllegationType(StrEnum):
    SEXUAL_EXPLOITATION = "SE"
    SEXUAL_ABUSE = "SA"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


class AgeGroup(StrEnum):
    ADULT = "adult"
    CHILD = "child"
    UNKNOWN = "unknown"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class InvestigatingEntity(StrEnum):
    """Who investigates: the UN's OIOS, or the contributing state's own investigators."""

    OIOS = "OIOS"
    TCC = "TCC"
    PCC = "PCC"
    NIO = "NIO"

    @property
    def national(self) -> bool:
        return self is not InvestigatingEntity.OIOS


class Finding(StrEnum):
    SUBSTANTIATED = "substantiated"
    NOT_SUBSTANTIATED = "not_substantiated"


class SanctionKind(StrEnum):
    DISMISSAL = "dismissal"
    RANK_REDUCTION = "rank_reduction"
    IMPRISONMENT = "imprisonment"
    FINE = "fine"
    REPRIMAND = "reprimand"
    SUSPENSION = "suspension"
    BAN_FROM_FUTURE_SERVICE = "ban_from_future_service"
    OTHER = "other"


class SanctionAuthority(StrEnum):
    """Who imposed a sanction: the Member State, or the UN (repatriation, ban, dismissal)."""

    MEMBER_STATE = "member_state"
    UNITED_NATIONS = "united_nations"


class ProsecutionOutcome(StrEnum):
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    DISMISSED = "dismissed"


class ClosureReason(StrEnum):
    INVESTIGATION_COMPLETED = "investigation_completed"
    ACTION_COMPLETED = "action_completed"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    OTHER_CIRCUMSTANCES = "other_circumstances"
