"""The inputs of the mutations: one per command, each with the fields the command takes.

Every input takes an optional ``signature``; a signed command names its own
``commandId`` and ``occurredAt``, which its signature covers (``submission.py``).
"""

import graphene

from accountability.events import vocabulary as v

from .scalars import Day, Instant
from .types import (
    AgeGroup,
    AllegationType,
    AssistanceKind,
    ClosureReason,
    DatePrecision,
    EntityKind,
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

ErasureReason = graphene.Enum.from_enum(v.ErasureReason)


class SignatureInput(graphene.InputObjectType):
    """A Member State's Ed25519 signature over the command's statement (README, Signing)."""

    key_id = graphene.String(
        required=True, description="First 16 hex digits of SHA-256 over the raw public key"
    )
    signature = graphene.String(required=True, description="64 bytes, standard base64")


class CommandInput(graphene.InputObjectType):
    class Meta:
        abstract = True

    command_id = graphene.ID(
        description="Idempotency key: resending a command id returns the first answer. "
        "Generated when absent."
    )
    correlation_id = graphene.String(description="Groups related commands; defaults to commandId")
    occurred_at = graphene.Field(
        Instant, description="When it happened in the world; defaults to now"
    )
    signature = graphene.InputField(
        SignatureInput,
        description="Required of a Member State that registered a signing key; a signed "
        "command names its commandId and occurredAt",
    )


class CaseCommandInput(CommandInput):
    class Meta:
        abstract = True

    case_id = graphene.ID(required=True)


class ReportAllegationInput(CommandInput):
    case_id = graphene.ID(description="Defaults to an id derived from commandId")
    allegation_type = graphene.Field(AllegationType, required=True)
    entity = graphene.Field(EntityKind, description="Default: peacekeeping")
    entity_name = graphene.String(description="The agency, fund, programme or partner")
    mission = graphene.String(description="UN acronym, e.g. MINUSCA")
    incident_date = graphene.Field(Day, description="A month or a year: its first day")
    incident_date_precision = graphene.Field(
        DatePrecision, description="Default: day with a date, unknown without"
    )


class IdentifyAllegedPerpetratorInput(CaseCommandInput):
    category = graphene.Field(PersonnelCategory, required=True)
    nationality = graphene.String(required=True, description="ISO 3166-1 alpha-3")
    sex = graphene.Field(Sex)
    perpetrator_id = graphene.String(description="Defaults to P1, P2, …")


class RecordVictimInput(CaseCommandInput):
    age_group = graphene.Field(AgeGroup, required=True)
    sex = graphene.Field(Sex, required=True)
    victim_id = graphene.String(
        description="V and a number (V1, V2, …), never a name; the next free one when left out"
    )


class NotifyMemberStateInput(CaseCommandInput):
    member_state = graphene.String(required=True)
    nio_requested = graphene.Boolean(
        description="Whether a National Investigation Officer is asked for (default true)"
    )


class MemberStateInput(CaseCommandInput):
    member_state = graphene.String(required=True)


class OpenInvestigationInput(CaseCommandInput):
    entity = graphene.Field(InvestigatingEntity, required=True)
    member_state = graphene.String(description="Required for TCC, PCC and NIO investigations")
    urgent = graphene.Boolean()
    investigation_id = graphene.String(description="Defaults to I1, I2, …")


class ConcludeInvestigationInput(CaseCommandInput):
    investigation_id = graphene.String(required=True)
    finding = graphene.Field(Finding, required=True)
    victims_interviewed = graphene.Boolean(required=True)


class RepatriatePersonnelInput(CaseCommandInput):
    perpetrator_id = graphene.String(required=True)
    disciplinary = graphene.Boolean(description="Repatriated on disciplinary grounds (default)")


class ImposeSanctionInput(CaseCommandInput):
    perpetrator_id = graphene.String(required=True)
    kind = graphene.Field(SanctionKind, required=True)
    imposed_by = graphene.Field(SanctionAuthority)
    months = graphene.Int()


class ConcludeProsecutionInput(CaseCommandInput):
    perpetrator_id = graphene.String(required=True)
    outcome = graphene.Field(ProsecutionOutcome, required=True)
    sentence_months = graphene.Int()


class CloseCaseInput(CaseCommandInput):
    reason = graphene.Field(ClosureReason, required=True)


class ReopenCaseInput(CaseCommandInput):
    reason = graphene.Field(ReopenReason, required=True)


class PerpetratorInput(CaseCommandInput):
    perpetrator_id = graphene.String(required=True)


class InterimActionInput(CaseCommandInput):
    perpetrator_id = graphene.String(required=True)
    action = graphene.Field(InterimAction, required=True)


class PublishCaseInput(CaseCommandInput):
    reference = graphene.String(description="The reference in the UN's public table")


class PaternityClaimInput(CaseCommandInput):
    perpetrator_id = graphene.String()
    claim_id = graphene.String(description="Defaults to C1, C2, …")


class ClaimInput(CaseCommandInput):
    claim_id = graphene.String(required=True)


class VictimAssistanceInput(CaseCommandInput):
    victim_id = graphene.String(required=True)
    kinds = graphene.List(graphene.NonNull(AssistanceKind), required=True)


class SignVoluntaryCompactInput(CommandInput):
    member_state = graphene.String(required=True)


class StateInput(CommandInput):
    member_state = graphene.String(required=True)


class TrustFundContributionInput(CommandInput):
    member_state = graphene.String(required=True)
    amount_usd = graphene.Int(required=True, description="Whole US dollars")


class FocalPointInput(CommandInput):
    member_state = graphene.String(required=True)
    role = graphene.Field(FocalPointRole, required=True)


class RecordNarrativeInput(CaseCommandInput):
    text = graphene.String(
        required=True,
        description="The allegation's account, in plain text: sealed with the case's key "
        "before it is sent, never stored in clear",
    )


class AddCaseNoteInput(CaseCommandInput):
    text = graphene.String(
        required=True, description="Plain text: sealed with the case's key, never stored in clear"
    )
    note_id = graphene.String(description="Defaults to N1, N2, …")


class EraseVictimDataInput(CaseCommandInput):
    reason = graphene.Field(ErasureReason, required=True)


class RegisterSigningKeyInput(CommandInput):
    member_state = graphene.String(required=True)
    public_key = graphene.String(
        required=True, description="Ed25519: the raw 32 bytes in standard base64, or a PEM"
    )


class RevokeSigningKeyInput(CommandInput):
    member_state = graphene.String(required=True)
    key_id = graphene.String(required=True)


REASON_HELP = (
    "Why, in 1 to 500 characters: kept in clear in the log and shown to everyone who may "
    "read the event, oversight bodies included. Never victim detail (ADR 21): that goes "
    "in a sealed case note, which the reason may point to."
)


class CorrectEventInput(CommandInput):
    stream_id = graphene.String(required=True, description="case:<id> or state:<ISO3>")
    event_id = graphene.ID(required=True)
    corrected_payload = graphene.JSONString(
        required=True, description="The whole payload as it should have been recorded"
    )
    corrected_occurred_at = graphene.Field(Instant, description="If the instant was wrong too")
    reason = graphene.String(required=True, description=REASON_HELP)


class RetractEventInput(CommandInput):
    stream_id = graphene.String(required=True, description="case:<id> or state:<ISO3>")
    event_id = graphene.ID(required=True)
    reason = graphene.String(required=True, description=REASON_HELP)
