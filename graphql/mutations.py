"""Mutations: one per command, each answering ``Accepted`` (with its events) or ``Rejected``.

A rejection is data (``code``, ``message``, ``field``), not an error: the command
broke a rule of the domain and nothing was recorded. Errors are kept for requests
that cannot be served at all (no credential, broker down).
"""

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import graphene
from graphene.utils.str_converters import to_camel_case

from accountability.events import commands as c
from accountability.events import vocabulary as v
from accountability.events.types import CaseId, CountryCode

from .context import Accepted as AcceptedOutcome
from .context import RequestContext
from .queries import require_actor
from .scalars import Day, Instant
from .types import (
    Accepted,
    AgeGroup,
    AllegationType,
    ClosureReason,
    CommandOutcome,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
    Rejected,
    SanctionAuthority,
    SanctionKind,
    Sex,
)


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


class CaseCommandInput(CommandInput):
    class Meta:
        abstract = True

    case_id = graphene.ID(required=True)


class ReportAllegationInput(CommandInput):
    case_id = graphene.ID(description="Defaults to an id derived from commandId")
    allegation_type = graphene.Field(AllegationType, required=True)
    mission = graphene.String(description="UN acronym, e.g. MINUSCA")
    incident_date = graphene.Field(Day)


class IdentifyAllegedPerpetratorInput(CaseCommandInput):
    category = graphene.Field(PersonnelCategory, required=True)
    nationality = graphene.String(required=True, description="ISO 3166-1 alpha-3")
    sex = graphene.Field(Sex)
    perpetrator_id = graphene.String(description="Defaults to P1, P2, …")


class RecordVictimInput(CaseCommandInput):
    age_group = graphene.Field(AgeGroup, required=True)
    sex = graphene.Field(Sex, required=True)
    victim_id = graphene.String(description="Defaults to V1, V2, …")


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


class SignVoluntaryCompactInput(CommandInput):
    member_state = graphene.String(required=True)


def case_id_for(command_id: str) -> CaseId:
    """The case id a report gets when it names none: stable for a retried command."""
    return CaseId("C-" + hashlib.sha256(command_id.encode()).hexdigest()[:12].upper())


Builder = Callable[[Any, str], c.Command]


async def _submit(info: Any, data: Any, build: Builder) -> Accepted | Rejected:
    require_actor(info)
    context: RequestContext = info.context
    command_id = data.command_id or str(uuid.uuid4())
    outcome = await context.submitter.submit(
        build(data, command_id),
        command_id=command_id,
        occurred_at=data.occurred_at,
        correlation_id=data.correlation_id,
    )
    if isinstance(outcome, AcceptedOutcome):
        return Accepted(
            command_id=outcome.command_id,
            stream_id=outcome.stream_id,
            events=outcome.events,
            visible=outcome.visible,
        )
    detail = outcome.rejection
    return Rejected(
        command_id=outcome.command_id,
        stream_id=outcome.stream_id,
        code=detail.code,
        message=detail.message,
        field=to_camel_case(detail.field) if detail.field else None,
    )


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
    sign_voluntary_compact = _mutation(
        SignVoluntaryCompactInput, "A Member State signed the Voluntary Compact."
    )

    @staticmethod
    async def resolve_report_allegation(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info,
            input,
            lambda d, command_id: c.ReportAllegation(
                case_id=CaseId(d.case_id or case_id_for(command_id)),
                allegation_type=d.allegation_type,
                mission=d.mission,
                incident_date=d.incident_date,
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
    async def resolve_sign_voluntary_compact(root: None, info: Any, input: Any) -> Any:
        return await _submit(
            info, input, lambda d, _: c.SignVoluntaryCompact(CountryCode(d.member_state))
        )
