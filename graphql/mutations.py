"""Mutations: one per command, each answering ``Accepted`` (with its events) or ``Rejected``.

A rejection is data (``code``, ``message``, ``field``), not an error: the command
broke a rule of the domain and nothing was recorded. Errors are kept for requests
that cannot be served at all (no credential, broker down).

Every input takes an optional ``signature``: a Member State that registered a key
signs each command it submits (``events/signing.py`` defines the statement), and a
signed command names its own ``commandId`` and ``occurredAt``, which are signed.
Narratives and notes arrive as plain text and are sealed by the submitter before the
command is built: plain text never reaches the log.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import graphene
from graphene.utils.str_converters import to_camel_case

from accountability.events import commands as c
from accountability.events import vocabulary as v
from accountability.events.codec import canonical_json
from accountability.events.errors import Rejection, RejectionDetail
from accountability.events.privacy import SealedText
from accountability.events.rules import Rule, ensure_identifier, ensure_role
from accountability.events.signing import (
    SIGNATURE_BYTES,
    KeyFormatError,
    Signature,
    b64,
    from_b64,
    parse_public_key,
)
from accountability.events.types import CaseId, CountryCode, StreamId

from .context import Accepted as AcceptedOutcome
from .context import Refused, RequestContext
from .errors import BadInput
from .queries import require_actor
from .scalars import Day, Instant
from .types import (
    Accepted,
    AgeGroup,
    AllegationType,
    AssistanceKind,
    ClosureReason,
    CommandOutcome,
    DatePrecision,
    EntityKind,
    Finding,
    FocalPointRole,
    InterimAction,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
    Rejected,
    ReopenReason,
    SanctionAuthority,
    SanctionKind,
    Sex,
)

ErasureReason = graphene.Enum.from_enum(v.ErasureReason)

SIGNED_FIELDS_MISSING = "SIGNED_FIELDS_MISSING"
TEXT_WRITERS = frozenset({v.Role.OFFICER})
"""Who may record a narrative or a note (ADR 0014)."""


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


def case_id_for(command_id: str) -> CaseId:
    """The case id a report gets when it names none: stable for a retried command."""
    return CaseId("C-" + hashlib.sha256(command_id.encode()).hexdigest()[:12].upper())


Builder = Callable[[Any, str], c.Command]
TextBuilder = Callable[[Any, SealedText], c.Command]


def _rejected(command_id: str, stream_id: str, detail: RejectionDetail) -> Rejected:
    return Rejected(
        command_id=command_id,
        stream_id=stream_id,
        code=detail.code,
        message=detail.message,
        field=to_camel_case(detail.field) if detail.field else None,
    )


def _signature(data: Any) -> Signature | RejectionDetail | None:
    """The input's signature, or why it cannot be one."""
    given = data.signature
    if given is None:
        return None
    if data.command_id is None or data.occurred_at is None:
        return RejectionDetail(
            SIGNED_FIELDS_MISSING,
            "a signed command names its commandId and occurredAt, which its signature covers",
            "command_id" if data.command_id is None else "occurred_at",
        )
    try:
        return Signature(given.key_id, from_b64(given.signature, "signature", SIGNATURE_BYTES))
    except ValueError as exc:
        return RejectionDetail(Rule.INVALID_SIGNATURE, str(exc), "signature")


async def _submit(
    info: Any, data: Any, build: Builder, command_id: str | None = None
) -> Accepted | Rejected:
    require_actor(info)
    context: RequestContext = info.context
    command_id = command_id or data.command_id or str(uuid.uuid4())
    command = build(data, command_id)
    signature = _signature(data)
    if isinstance(signature, RejectionDetail):
        return _rejected(command_id, command.stream_id, signature)
    outcome = await context.submitter.submit(
        command,
        command_id=command_id,
        occurred_at=data.occurred_at,
        correlation_id=data.correlation_id,
        signature=signature,
    )
    if isinstance(outcome, AcceptedOutcome):
        return Accepted(
            command_id=outcome.command_id,
            stream_id=outcome.stream_id,
            events=outcome.events,
            visible=outcome.visible,
        )
    return _rejected(outcome.command_id, outcome.stream_id, outcome.rejection)


async def _submit_text(
    info: Any, data: Any, build: TextBuilder, action: str
) -> Accepted | Rejected:
    """Seal ``data.text`` with the case's key at the edge, then submit the command.

    Text commands are the officers' (the decider says so too); the role is checked
    before sealing, so that no one else makes the key store create a case's key.
    """
    actor = require_actor(info)
    context: RequestContext = info.context
    command_id = data.command_id or str(uuid.uuid4())
    try:
        ensure_role(actor, TEXT_WRITERS, action)
        ensure_identifier(data.case_id, "case_id")
        sealed = await context.submitter.seal_text(data.case_id, data.text)
    except (Rejection, Refused) as refusal:
        return _rejected(command_id, c.case_stream(data.case_id), refusal.detail)
    return await _submit(info, data, lambda d, _: build(d, sealed), command_id)


def _public_key(text: str) -> str:
    """A PEM as the raw key in base64, the one form commands carry and states sign."""
    try:
        return b64(parse_public_key(text))
    except KeyFormatError:
        return text  # the decider names what is wrong with it


def _payload_text(value: Any) -> str:
    """A corrected payload, as canonical JSON text whatever the client sent."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise BadInput("correctedPayload must be a JSON object", field="correctedPayload")
    return canonical_json(value).decode("utf-8")


def _opt(value: Any, default: Any) -> Any:
    return default if value is None else value


def _mutation(input_type: type[graphene.InputObjectType], description: str) -> graphene.Field:
    return graphene.Field(
        CommandOutcome,
        required=True,
        input=input_type(required=True),
        description=description,
    )


class Mutation(graphene.ObjectType):
    report_allegation = _mutation(ReportAllegationInput, "Record an allegation the UN received.")
    identify_alleged_perpetrator = _mutation(
        IdentifyAllegedPerpetratorInput, "Record an alleged perpetrator's category and nationality."
    )
    record_victim = _mutation(
        RecordVictimInput, "Count a victim by age group and sex; no identity."
    )
    notify_member_state = _mutation(
        NotifyMemberStateInput, "Record that the UN referred the case to a Member State."
    )
    reply_intent_to_investigate = _mutation(MemberStateInput, "The Member State will investigate.")
    decline_to_investigate = _mutation(MemberStateInput, "The Member State will not investigate.")
    appoint_national_investigation_officer = _mutation(
        MemberStateInput, "The Member State appointed a National Investigation Officer."
    )
    open_investigation = _mutation(OpenInvestigationInput, "An investigation was opened.")
    conclude_investigation = _mutation(
        ConcludeInvestigationInput, "An investigation ended with a finding."
    )
    repatriate_personnel = _mutation(
        RepatriatePersonnelInput, "An alleged perpetrator was repatriated."
    )
    impose_sanction = _mutation(ImposeSanctionInput, "A sanction was imposed.")
    conclude_prosecution = _mutation(ConcludeProsecutionInput, "A prosecution ended.")
    close_case = _mutation(CloseCaseInput, "The case was closed.")
    reopen_case = _mutation(ReopenCaseInput, "A closed case was reopened.")
    take_interim_action = _mutation(InterimActionInput, "A measure pending the outcome.")
    make_criminal_referral = _mutation(
        PerpetratorInput, "The case was referred to the perpetrator's national authorities."
    )
    request_follow_up = _mutation(MemberStateInput, "The UN asked the Member State again.")
    publish_case = _mutation(PublishCaseInput, "The case appears in the UN's public table.")
    file_paternity_claim = _mutation(PaternityClaimInput, "A paternity claim was filed.")
    establish_paternity = _mutation(ClaimInput, "Paternity was established.")
    arrange_child_support = _mutation(ClaimInput, "Child support was arranged.")
    provide_victim_assistance = _mutation(VictimAssistanceInput, "A victim was assisted.")
    sign_voluntary_compact = _mutation(
        SignVoluntaryCompactInput, "A Member State signed the Voluntary Compact."
    )
    join_circle_of_leadership = _mutation(
        StateInput, "The state's leader joined the Circle of Leadership."
    )
    contribute_to_trust_fund = _mutation(
        TrustFundContributionInput, "A contribution to the Trust Fund in Support of Victims."
    )
    designate_focal_point = _mutation(FocalPointInput, "A focal point was designated.")
    correct_event = _mutation(
        CorrectEventInput, "Correct an earlier event; the original and its hash stay."
    )
    retract_event = _mutation(RetractEventInput, "Withdraw an event recorded in error.")
    record_narrative = _mutation(
        RecordNarrativeInput, "Record the allegation's account, sealed with the case's key."
    )
    add_case_note = _mutation(AddCaseNoteInput, "Add a note, sealed with the case's key.")
    erase_victim_data = _mutation(
        EraseVictimDataInput,
        "Destroy the case's key: its narrative and notes can never be read again; every "
        "event and hash stays.",
    )
    register_signing_key = _mutation(
        RegisterSigningKeyInput,
        "A Member State registers an Ed25519 key; from then on it signs every submission.",
    )
    revoke_signing_key = _mutation(
        RevokeSigningKeyInput, "A Member State revokes one of its signing keys."
    )

    @staticmethod
    async def resolve_report_allegation(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, command_id: c.ReportAllegation(
                case_id=CaseId(case_id_for(command_id) if d.case_id is None else d.case_id),
                allegation_type=d.allegation_type,
                mission=d.mission,
                incident_date=d.incident_date,
                entity=_opt(d.entity, v.EntityKind.PEACEKEEPING),
                entity_name=d.entity_name,
                incident_date_precision=d.incident_date_precision,
            ),
        )

    @staticmethod
    async def resolve_identify_alleged_perpetrator(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.IdentifyAllegedPerpetrator(
                case_id=d.case_id,
                category=d.category,
                nationality=CountryCode(d.nationality),
                sex=_opt(d.sex, v.Sex.UNKNOWN),
                perpetrator_id=d.perpetrator_id,
            ),
        )

    @staticmethod
    async def resolve_record_victim(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.RecordVictim(
                case_id=d.case_id, age_group=d.age_group, sex=d.sex, victim_id=d.victim_id
            ),
        )

    @staticmethod
    async def resolve_notify_member_state(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.NotifyMemberState(
                case_id=d.case_id,
                member_state=CountryCode(d.member_state),
                nio_requested=_opt(d.nio_requested, True),
            ),
        )

    @staticmethod
    async def resolve_reply_intent_to_investigate(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.ReplyIntentToInvestigate(d.case_id, CountryCode(d.member_state)),
        )

    @staticmethod
    async def resolve_decline_to_investigate(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.DeclineToInvestigate(d.case_id, CountryCode(d.member_state)),
        )

    @staticmethod
    async def resolve_appoint_national_investigation_officer(
        root: None,
        info: Any,
        input: Any,
    ) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.AppointNationalInvestigationOfficer(
                d.case_id, CountryCode(d.member_state)
            ),
        )

    @staticmethod
    async def resolve_open_investigation(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.OpenInvestigation(
                case_id=d.case_id,
                entity=d.entity,
                member_state=CountryCode(d.member_state) if d.member_state else None,
                urgent=_opt(d.urgent, False),
                investigation_id=d.investigation_id,
            ),
        )

    @staticmethod
    async def resolve_conclude_investigation(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.ConcludeInvestigation(
                case_id=d.case_id,
                investigation_id=d.investigation_id,
                finding=d.finding,
                victims_interviewed=d.victims_interviewed,
            ),
        )

    @staticmethod
    async def resolve_repatriate_personnel(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.RepatriatePersonnel(
                case_id=d.case_id,
                perpetrator_id=d.perpetrator_id,
                disciplinary=_opt(d.disciplinary, True),
            ),
        )

    @staticmethod
    async def resolve_impose_sanction(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.ImposeSanction(
                case_id=d.case_id,
                perpetrator_id=d.perpetrator_id,
                kind=d.kind,
                imposed_by=_opt(d.imposed_by, v.SanctionAuthority.MEMBER_STATE),
                months=d.months,
            ),
        )

    @staticmethod
    async def resolve_conclude_prosecution(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, _: c.ConcludeProsecution(
                case_id=d.case_id,
                perpetrator_id=d.perpetrator_id,
                outcome=d.outcome,
                sentence_months=d.sentence_months,
            ),
        )

    @staticmethod
    async def resolve_close_case(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.CloseCase(case_id=d.case_id, reason=d.reason)
        )

    @staticmethod
    async def resolve_reopen_case(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.ReopenCase(case_id=d.case_id, reason=d.reason)
        )

    @staticmethod
    async def resolve_take_interim_action(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.TakeInterimAction(d.case_id, d.perpetrator_id, d.action),
        )  # fmt: skip

    @staticmethod
    async def resolve_make_criminal_referral(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.MakeCriminalReferral(d.case_id, d.perpetrator_id)
        )

    @staticmethod
    async def resolve_request_follow_up(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.RequestFollowUp(d.case_id, CountryCode(d.member_state)),
        )  # fmt: skip

    @staticmethod
    async def resolve_publish_case(root: None, info: Any, input: Any) -> Any:
        return await _submit(info, input, lambda d, _: c.PublishCase(d.case_id, d.reference))

    @staticmethod
    async def resolve_file_paternity_claim(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.FilePaternityClaim(d.case_id, d.perpetrator_id, d.claim_id),
        )  # fmt: skip

    @staticmethod
    async def resolve_establish_paternity(root: None, info: Any, input: Any) -> Any:
        return await _submit(info, input, lambda d, _: c.EstablishPaternity(d.case_id, d.claim_id))

    @staticmethod
    async def resolve_arrange_child_support(root: None, info: Any, input: Any) -> Any:
        return await _submit(info, input, lambda d, _: c.ArrangeChildSupport(d.case_id, d.claim_id))

    @staticmethod
    async def resolve_provide_victim_assistance(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.ProvideVictimAssistance(d.case_id, d.victim_id, tuple(d.kinds)),
        )  # fmt: skip

    @staticmethod
    async def resolve_join_circle_of_leadership(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.JoinCircleOfLeadership(CountryCode(d.member_state))
        )

    @staticmethod
    async def resolve_contribute_to_trust_fund(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.ContributeToTrustFund(CountryCode(d.member_state), d.amount_usd),
        )  # fmt: skip

    @staticmethod
    async def resolve_designate_focal_point(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.DesignateFocalPoint(CountryCode(d.member_state), d.role),
        )  # fmt: skip

    @staticmethod
    async def resolve_correct_event(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.CorrectEvent(
                stream=StreamId(d.stream_id),
                event_id=d.event_id,
                corrected_payload=_payload_text(d.corrected_payload),
                reason=d.reason,
                corrected_occurred_at=d.corrected_occurred_at,
            ),
        )  # fmt: skip

    @staticmethod
    async def resolve_retract_event(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.RetractEvent(StreamId(d.stream_id), d.event_id, d.reason),
        )  # fmt: skip

    @staticmethod
    async def resolve_sign_voluntary_compact(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.SignVoluntaryCompact(CountryCode(d.member_state))
        )

    @staticmethod
    async def resolve_record_narrative(root: None, info: Any, input: Any) -> Any:
        return await _submit_text(
            info, input, lambda d, sealed: c.RecordNarrative(CaseId(d.case_id), sealed),
            "recording a narrative",
        )  # fmt: skip

    @staticmethod
    async def resolve_add_case_note(root: None, info: Any, input: Any) -> Any:
        return await _submit_text(
            info, input, lambda d, sealed: c.AddCaseNote(CaseId(d.case_id), sealed, d.note_id),
            "adding a note to a case",
        )  # fmt: skip

    @staticmethod
    async def resolve_erase_victim_data(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.EraseVictimData(CaseId(d.case_id), d.reason)
        )

    @staticmethod
    async def resolve_register_signing_key(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.RegisterSigningKey(
                CountryCode(d.member_state), _public_key(d.public_key)
            ),
        )  # fmt: skip

    @staticmethod
    async def resolve_revoke_signing_key(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input,
            lambda d, _: c.RevokeSigningKey(CountryCode(d.member_state), d.key_id),
        )  # fmt: skip
