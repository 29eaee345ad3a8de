"""Commands: what a principal asks the decider to do, in the imperative.

A command names its stream; the decider turns it into events or a rejection.
When it happened in the world and who asks travel beside it in the
:class:`CommandEnvelope`, never in the command's own fields.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import ClassVar

from .privacy import SealedText
from .signing import Signature, command_statement
from .types import CaseId, CommandId, CountryCode, StreamId
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
    Role,
    SanctionAuthority,
    SanctionKind,
    Sex,
)

CASE_STREAM_PREFIX = "case:"
STATE_STREAM_PREFIX = "state:"


def case_stream(case_id: str) -> StreamId:
    return StreamId(f"{CASE_STREAM_PREFIX}{case_id}")


def state_stream(member_state: str) -> StreamId:
    return StreamId(f"{STATE_STREAM_PREFIX}{member_state}")


@dataclass(frozen=True, slots=True)
class CaseCommand:
    """A command on one allegation case; its stream is ``case:<case_id>``."""

    case_id: CaseId

    @property
    def stream_id(self) -> StreamId:
        return case_stream(self.case_id)


@dataclass(frozen=True, slots=True)
class ReportAllegation(CaseCommand):
    allegation_type: AllegationType
    mission: str | None = None
    incident_date: date | None = None
    entity: EntityKind = EntityKind.PEACEKEEPING
    entity_name: str | None = None
    incident_date_precision: DatePrecision | None = None
    """Defaults to ``day`` when an incident date is given, ``unknown`` otherwise."""


@dataclass(frozen=True, slots=True)
class IdentifyAllegedPerpetrator(CaseCommand):
    category: PersonnelCategory
    nationality: CountryCode
    sex: Sex = Sex.UNKNOWN
    perpetrator_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecordVictim(CaseCommand):
    age_group: AgeGroup
    sex: Sex
    victim_id: str | None = None


@dataclass(frozen=True, slots=True)
class NotifyMemberState(CaseCommand):
    member_state: CountryCode
    nio_requested: bool = True


@dataclass(frozen=True, slots=True)
class ReplyIntentToInvestigate(CaseCommand):
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class DeclineToInvestigate(CaseCommand):
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class AppointNationalInvestigationOfficer(CaseCommand):
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class OpenInvestigation(CaseCommand):
    entity: InvestigatingEntity
    member_state: CountryCode | None = None
    urgent: bool = False
    investigation_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConcludeInvestigation(CaseCommand):
    investigation_id: str
    finding: Finding
    victims_interviewed: bool


@dataclass(frozen=True, slots=True)
class TakeInterimAction(CaseCommand):
    perpetrator_id: str
    action: InterimAction


@dataclass(frozen=True, slots=True)
class RepatriatePersonnel(CaseCommand):
    perpetrator_id: str
    disciplinary: bool = True


@dataclass(frozen=True, slots=True)
class ImposeSanction(CaseCommand):
    perpetrator_id: str
    kind: SanctionKind
    imposed_by: SanctionAuthority = SanctionAuthority.MEMBER_STATE
    months: int | None = None


@dataclass(frozen=True, slots=True)
class MakeCriminalReferral(CaseCommand):
    perpetrator_id: str


@dataclass(frozen=True, slots=True)
class ConcludeProsecution(CaseCommand):
    perpetrator_id: str
    outcome: ProsecutionOutcome
    sentence_months: int | None = None


@dataclass(frozen=True, slots=True)
class RequestFollowUp(CaseCommand):
    member_state: CountryCode


@dataclass(frozen=True, slots=True)
class PublishCase(CaseCommand):
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class CloseCase(CaseCommand):
    reason: ClosureReason


@dataclass(frozen=True, slots=True)
class ReopenCase(CaseCommand):
    reason: ReopenReason


@dataclass(frozen=True, slots=True)
class FilePaternityClaim(CaseCommand):
    perpetrator_id: str | None = None
    claim_id: str | None = None


@dataclass(frozen=True, slots=True)
class EstablishPaternity(CaseCommand):
    claim_id: str


@dataclass(frozen=True, slots=True)
class ArrangeChildSupport(CaseCommand):
    claim_id: str


@dataclass(frozen=True, slots=True)
class ProvideVictimAssistance(CaseCommand):
    victim_id: str
    kinds: tuple[AssistanceKind, ...]


@dataclass(frozen=True, slots=True)
class RecordNarrative(CaseCommand):
    """Record the allegation's account; ``text`` is sealed by the API, never plain."""

    text: SealedText


@dataclass(frozen=True, slots=True)
class AddCaseNote(CaseCommand):
    """Add a note to the case; ``text`` is sealed by the API, never plain."""

    text: SealedText
    note_id: str | None = None


@dataclass(frozen=True, slots=True)
class EraseVictimData(CaseCommand):
    """Destroy the case's key, so that its narrative and notes can never be read again."""

    reason: ErasureReason


@dataclass(frozen=True, slots=True)
class StateCommand:
    """A command on a Member State's own stream, ``state:<ISO 3166-1 alpha-3>``."""

    member_state: CountryCode

    @property
    def stream_id(self) -> StreamId:
        return state_stream(self.member_state)


@dataclass(frozen=True, slots=True)
class SignVoluntaryCompact(StateCommand):
    pass


@dataclass(frozen=True, slots=True)
class JoinCircleOfLeadership(StateCommand):
    pass


@dataclass(frozen=True, slots=True)
class ContributeToTrustFund(StateCommand):
    amount_usd: int


@dataclass(frozen=True, slots=True)
class DesignateFocalPoint(StateCommand):
    role: FocalPointRole


@dataclass(frozen=True, slots=True)
class RegisterSigningKey(StateCommand):
    """Register an Ed25519 public key: 32 raw bytes in standard base64 (or a PEM)."""

    public_key: str


@dataclass(frozen=True, slots=True)
class RevokeSigningKey(StateCommand):
    key_id: str


@dataclass(frozen=True, slots=True)
class CorrectEvent:
    """Correct an earlier event of ``stream``: its whole payload and, if it was wrong, when."""

    stream: StreamId
    event_id: str
    corrected_payload: str
    reason: str
    corrected_occurred_at: datetime | None = None

    @property
    def stream_id(self) -> StreamId:
        return self.stream


@dataclass(frozen=True, slots=True)
class RetractEvent:
    """Withdraw an earlier event of ``stream`` recorded in error."""

    stream: StreamId
    event_id: str
    reason: str

    @property
    def stream_id(self) -> StreamId:
        return self.stream


Command = (
    ReportAllegation
    | IdentifyAllegedPerpetrator
    | RecordVictim
    | NotifyMemberState
    | ReplyIntentToInvestigate
    | DeclineToInvestigate
    | AppointNationalInvestigationOfficer
    | OpenInvestigation
    | ConcludeInvestigation
    | TakeInterimAction
    | RepatriatePersonnel
    | ImposeSanction
    | MakeCriminalReferral
    | ConcludeProsecution
    | RequestFollowUp
    | PublishCase
    | CloseCase
    | ReopenCase
    | FilePaternityClaim
    | EstablishPaternity
    | ArrangeChildSupport
    | ProvideVictimAssistance
    | RecordNarrative
    | AddCaseNote
    | EraseVictimData
    | SignVoluntaryCompact
    | JoinCircleOfLeadership
    | ContributeToTrustFund
    | DesignateFocalPoint
    | RegisterSigningKey
    | RevokeSigningKey
    | CorrectEvent
    | RetractEvent
)

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        ReportAllegation,
        IdentifyAllegedPerpetrator,
        RecordVictim,
        NotifyMemberState,
        ReplyIntentToInvestigate,
        DeclineToInvestigate,
        AppointNationalInvestigationOfficer,
        OpenInvestigation,
        ConcludeInvestigation,
        TakeInterimAction,
        RepatriatePersonnel,
        ImposeSanction,
        MakeCriminalReferral,
        ConcludeProsecution,
        RequestFollowUp,
        PublishCase,
        CloseCase,
        ReopenCase,
        FilePaternityClaim,
        EstablishPaternity,
        ArrangeChildSupport,
        ProvideVictimAssistance,
        RecordNarrative,
        AddCaseNote,
        EraseVictimData,
        SignVoluntaryCompact,
        JoinCircleOfLeadership,
        ContributeToTrustFund,
        DesignateFocalPoint,
        RegisterSigningKey,
        RevokeSigningKey,
        CorrectEvent,
        RetractEvent,
    )
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated principal behind a command, copied into every event."""

    principal_id: str
    role: Role
    member_state: CountryCode | None = None


@dataclass(frozen=True, slots=True)
class CommandEnvelope:
    """A command as it travels on ``accountability.commands``."""

    schema_version: ClassVar[int] = 1
    command_id: CommandId
    correlation_id: str
    actor: Actor
    issued_at: datetime
    occurred_at: datetime
    command: Command
    signature: Signature | None = None
    """A Member State's signature over :meth:`statement` (``signing.py``), if it signed."""

    def __post_init__(self) -> None:
        # Every instant of the domain is UTC, so that dates and weekdays taken from it
        # do not depend on the offset a client happened to send.
        for name in ("issued_at", "occurred_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"{name} {value.isoformat()} has no time zone")
            object.__setattr__(self, name, value.astimezone(UTC))

    @property
    def stream_id(self) -> StreamId:
        return self.command.stream_id

    @property
    def type(self) -> str:
        return type(self.command).__name__

    def statement(self) -> bytes:
        """What a Member State signs for this command (``signing.py`` defines it)."""
        return command_statement(self.command_id, self.command, self.stream_id, self.occurred_at)
