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
    OTHER = "OTHER"

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
    PersonnelCategory.OTHER: "Other (contractor, consultant, partner staff)",
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
    """Who investigates: the UN (OIOS, or the entity's own investigators) or the state.

    TCC and PCC are the troop- and police-contributing country's investigators, NIO
    its National Investigation Officer embedded with the contingent.
    """

    OIOS = "OIOS"
    ENTITY = "ENTITY"
    TCC = "TCC"
    PCC = "PCC"
    NIO = "NIO"

    @property
    def national(self) -> bool:
        return self in {InvestigatingEntity.TCC, InvestigatingEntity.PCC, InvestigatingEntity.NIO}


class EntityKind(StrEnum):
    """The UN's kind of entity the personnel served with."""

    PEACEKEEPING = "peacekeeping"
    SPECIAL_POLITICAL = "special_political"
    AGENCY_FUND_PROGRAMME = "agency_fund_programme"
    IMPLEMENTING_PARTNER = "implementing_partner"
    NON_UN_FORCE = "non_un_force"


class DatePrecision(StrEnum):
    """How much of an incident date is known (HURIDOCS: exact or estimated)."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class InterimAction(StrEnum):
    PAYMENTS_SUSPENDED = "payments_suspended"
    REPATRIATION_PENDING = "repatriation_pending"
    ADMINISTRATIVE_LEAVE = "administrative_leave"
    REASSIGNED = "reassigned"
    OTHER = "other"


class ReopenReason(StrEnum):
    NEW_INFORMATION = "new_information"
    CLOSED_IN_ERROR = "closed_in_error"
    MEMBER_STATE_REQUEST = "member_state_request"
    OTHER = "other"


class AssistanceKind(StrEnum):
    MEDICAL = "medical"
    PSYCHOSOCIAL = "psychosocial"
    LEGAL = "legal"
    MATERIAL = "material"
    EDUCATION = "education"
    LIVELIHOOD = "livelihood"
    OTHER = "other"


class FocalPointRole(StrEnum):
    """Focal points a Member State designates: for paternity claims, or for SEA in general."""

    PATERNITY = "paternity"
    SEA = "sea"


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


class UnStatus(StrEnum):
    """Investigation status as the UN's quarterly updates word it (2018-19)."""

    PRELIMINARY_ASSESSMENT = "Under preliminary assessment"
    LIMITED_INFORMATION = "Under review – limited information"  # noqa: RUF001 - the UN's dash
    UNDER_INVESTIGATION = "Under investigation"
    PENDING_MEMBER_STATE = "Pending further investigation by the Member State"
    SUBSTANTIATED = "Substantiated"
    NOT_SUBSTANTIATED = "Not substantiated"
    CLOSED_OTHER = "Closed under other circumstances"


class ErasureReason(StrEnum):
    """Why a case's victim data was erased; a closed list, so no free text carries identity."""

    VICTIM_REQUEST = "victim_request"
    RETENTION_EXPIRED = "retention_expired"
    LEGAL_ORDER = "legal_order"
    SAFETY = "safety"
    RECORDED_IN_ERROR = "recorded_in_error"
