"""Mutations: one per command, each answering ``Accepted`` (with its events) or ``Rejected``.

Each mutation is declared once: its input (``command_inputs.py``), what it does, and
how its input becomes the command that ``submission.py`` submits.

Every input takes an optional ``signature``: a Member State that registered a key
signs each command it submits (``events/signing.py`` defines the statement), and a
signed command names its own ``commandId`` and ``occurredAt``, which are signed.
Narratives and notes arrive as plain text and are sealed by the submitter before the
command is built: plain text never reaches the log.
"""

import hashlib
import json
from typing import Any

import graphene

from accountability.events import commands as c
from accountability.events import vocabulary as v
from accountability.events.codec import canonical_json
from accountability.events.signing import KeyFormatError, b64, parse_public_key
from accountability.events.types import CaseId, CountryCode, StreamId

from .command_inputs import (
    AddCaseNoteInput,
    ClaimInput,
    CloseCaseInput,
    ConcludeInvestigationInput,
    ConcludeProsecutionInput,
    CorrectEventInput,
    EraseVictimDataInput,
    FocalPointInput,
    IdentifyAllegedPerpetratorInput,
    ImposeSanctionInput,
    InterimActionInput,
    MemberStateInput,
    NotifyMemberStateInput,
    OpenInvestigationInput,
    PaternityClaimInput,
    PerpetratorInput,
    PublishCaseInput,
    RecordNarrativeInput,
    RecordVictimInput,
    RegisterSigningKeyInput,
    ReopenCaseInput,
    RepatriatePersonnelInput,
    ReportAllegationInput,
    RetractEventInput,
    RevokeSigningKeyInput,
    SignVoluntaryCompactInput,
    StateInput,
    TrustFundContributionInput,
    VictimAssistanceInput,
)
from .errors import BadInput
from .submission import command, text_command


def case_id_for(command_id: str) -> CaseId:
    """The case id a report gets when it names none: stable for a retried command."""
    return CaseId("C-" + hashlib.sha256(command_id.encode()).hexdigest()[:12].upper())


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


class Mutation(graphene.ObjectType):
    report_allegation = command(
        ReportAllegationInput,
        "Record an allegation the UN received.",
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
    identify_alleged_perpetrator = command(
        IdentifyAllegedPerpetratorInput,
        "Record an alleged perpetrator's category and nationality.",
        lambda d, _: c.IdentifyAllegedPerpetrator(
            case_id=d.case_id,
            category=d.category,
            nationality=CountryCode(d.nationality),
            sex=_opt(d.sex, v.Sex.UNKNOWN),
            perpetrator_id=d.perpetrator_id,
        ),
    )
    record_victim = command(
        RecordVictimInput,
        "Count a victim by age group and sex; no identity.",
        lambda d, _: c.RecordVictim(
            case_id=d.case_id, age_group=d.age_group, sex=d.sex, victim_id=d.victim_id
        ),
    )
    notify_member_state = command(
        NotifyMemberStateInput,
        "Record that the UN referred the case to a Member State.",
        lambda d, _: c.NotifyMemberState(
            case_id=d.case_id,
            member_state=CountryCode(d.member_state),
            nio_requested=_opt(d.nio_requested, True),
        ),
    )
    reply_intent_to_investigate = command(
        MemberStateInput,
        "The Member State will investigate.",
        lambda d, _: c.ReplyIntentToInvestigate(d.case_id, CountryCode(d.member_state)),
    )
    decline_to_investigate = command(
        MemberStateInput,
        "The Member State will not investigate.",
        lambda d, _: c.DeclineToInvestigate(d.case_id, CountryCode(d.member_state)),
    )
    appoint_national_investigation_officer = command(
        MemberStateInput,
        "The Member State appointed a National Investigation Officer.",
        lambda d, _: c.AppointNationalInvestigationOfficer(d.case_id, CountryCode(d.member_state)),
    )
    open_investigation = command(
        OpenInvestigationInput,
        "An investigation was opened.",
        lambda d, _: c.OpenInvestigation(
            case_id=d.case_id,
            entity=d.entity,
            member_state=CountryCode(d.member_state) if d.member_state else None,
            urgent=_opt(d.urgent, False),
            investigation_id=d.investigation_id,
        ),
    )
    conclude_investigation = command(
        ConcludeInvestigationInput,
        "An investigation ended with a finding.",
        lambda d, _: c.ConcludeInvestigation(
            case_id=d.case_id,
            investigation_id=d.investigation_id,
            finding=d.finding,
            victims_interviewed=d.victims_interviewed,
        ),
    )
    repatriate_personnel = command(
        RepatriatePersonnelInput,
        "An alleged perpetrator was repatriated.",
        lambda d, _: c.RepatriatePersonnel(
            case_id=d.case_id,
            perpetrator_id=d.perpetrator_id,
            disciplinary=_opt(d.disciplinary, True),
        ),
    )
    impose_sanction = command(
        ImposeSanctionInput,
        "A sanction was imposed.",
        lambda d, _: c.ImposeSanction(
            case_id=d.case_id,
            perpetrator_id=d.perpetrator_id,
            kind=d.kind,
            imposed_by=_opt(d.imposed_by, v.SanctionAuthority.MEMBER_STATE),
            months=d.months,
        ),
    )
    conclude_prosecution = command(
        ConcludeProsecutionInput,
        "A prosecution ended.",
        lambda d, _: c.ConcludeProsecution(
            case_id=d.case_id,
            perpetrator_id=d.perpetrator_id,
            outcome=d.outcome,
            sentence_months=d.sentence_months,
        ),
    )
    close_case = command(
        CloseCaseInput,
        "The case was closed.",
        lambda d, _: c.CloseCase(case_id=d.case_id, reason=d.reason),
    )
    reopen_case = command(
        ReopenCaseInput,
        "A closed case was reopened.",
        lambda d, _: c.ReopenCase(case_id=d.case_id, reason=d.reason),
    )
    take_interim_action = command(
        InterimActionInput,
        "A measure pending the outcome.",
        lambda d, _: c.TakeInterimAction(d.case_id, d.perpetrator_id, d.action),
    )
    make_criminal_referral = command(
        PerpetratorInput,
        "The case was referred to the perpetrator's national authorities.",
        lambda d, _: c.MakeCriminalReferral(d.case_id, d.perpetrator_id),
    )
    request_follow_up = command(
        MemberStateInput,
        "The UN asked the Member State again.",
        lambda d, _: c.RequestFollowUp(d.case_id, CountryCode(d.member_state)),
    )
    publish_case = command(
        PublishCaseInput,
        "The case appears in the UN's public table.",
        lambda d, _: c.PublishCase(d.case_id, d.reference),
    )
    file_paternity_claim = command(
        PaternityClaimInput,
        "A paternity claim was filed.",
        lambda d, _: c.FilePaternityClaim(d.case_id, d.perpetrator_id, d.claim_id),
    )
    establish_paternity = command(
        ClaimInput,
        "Paternity was established.",
        lambda d, _: c.EstablishPaternity(d.case_id, d.claim_id),
    )
    arrange_child_support = command(
        ClaimInput,
        "Child support was arranged.",
        lambda d, _: c.ArrangeChildSupport(d.case_id, d.claim_id),
    )
    provide_victim_assistance = command(
        VictimAssistanceInput,
        "A victim was assisted.",
        lambda d, _: c.ProvideVictimAssistance(d.case_id, d.victim_id, tuple(d.kinds)),
    )
    sign_voluntary_compact = command(
        SignVoluntaryCompactInput,
        "A Member State signed the Voluntary Compact.",
        lambda d, _: c.SignVoluntaryCompact(CountryCode(d.member_state)),
    )
    join_circle_of_leadership = command(
        StateInput,
        "The state's leader joined the Circle of Leadership.",
        lambda d, _: c.JoinCircleOfLeadership(CountryCode(d.member_state)),
    )
    contribute_to_trust_fund = command(
        TrustFundContributionInput,
        "A contribution to the Trust Fund in Support of Victims.",
        lambda d, _: c.ContributeToTrustFund(CountryCode(d.member_state), d.amount_usd),
    )
    designate_focal_point = command(
        FocalPointInput,
        "A focal point was designated.",
        lambda d, _: c.DesignateFocalPoint(CountryCode(d.member_state), d.role),
    )
    correct_event = command(
        CorrectEventInput,
        "Correct an earlier event; the original and its hash stay.",
        lambda d, _: c.CorrectEvent(
            stream=StreamId(d.stream_id),
            event_id=d.event_id,
            corrected_payload=_payload_text(d.corrected_payload),
            reason=d.reason,
            corrected_occurred_at=d.corrected_occurred_at,
        ),
    )
    retract_event = command(
        RetractEventInput,
        "Withdraw an event recorded in error.",
        lambda d, _: c.RetractEvent(StreamId(d.stream_id), d.event_id, d.reason),
    )
    record_narrative = text_command(
        RecordNarrativeInput,
        "Record the allegation's account, sealed with the case's key.",
        lambda d, sealed: c.RecordNarrative(CaseId(d.case_id), sealed),
        "recording a narrative",
    )
    add_case_note = text_command(
        AddCaseNoteInput,
        "Add a note, sealed with the case's key.",
        lambda d, sealed: c.AddCaseNote(CaseId(d.case_id), sealed, d.note_id),
        "adding a note to a case",
    )
    erase_victim_data = command(
        EraseVictimDataInput,
        "Destroy the case's key: its narrative and notes can never be read again; every "
        "event and hash stays.",
        lambda d, _: c.EraseVictimData(CaseId(d.case_id), d.reason),
    )
    register_signing_key = command(
        RegisterSigningKeyInput,
        "A Member State registers an Ed25519 key; from then on it signs every submission.",
        lambda d, _: c.RegisterSigningKey(CountryCode(d.member_state), _public_key(d.public_key)),
    )
    revoke_signing_key = command(
        RevokeSigningKeyInput,
        "A Member State revokes one of its signing keys.",
        lambda d, _: c.RevokeSigningKey(CountryCode(d.member_state), d.key_id),
    )
