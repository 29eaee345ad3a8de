"""The checked-in schemas are the generated ones, and they describe what we write.

Every event type is sealed from a realistic command and checked against the published
``envelope.schema.json`` and its own payload schema; broken events are refused for the
reason they are broken.
"""

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accountability.events import catalogue as ev
from accountability.events import commands as cm
from accountability.events.catalogue import (
    EVENT_TYPES,
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    CasePublished,
    CaseReopened,
    ChildSupportArranged,
    CircleOfLeadershipJoined,
    CriminalReferralMade,
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
    NationalInvestigationOfficerAppointed,
    PaternityClaimFiled,
    PaternityEstablished,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    TrustFundContributionMade,
    VictimAssistanceProvided,
    VictimRecorded,
    VoluntaryCompactSigned,
)
from accountability.events.codec import (
    canonical_json,
    from_json_object,
    parse_instant,
    to_json_object,
)
from accountability.events.commands import (
    COMMAND_TYPES,
    Actor,
    AppointNationalInvestigationOfficer,
    ArrangeChildSupport,
    CloseCase,
    CommandEnvelope,
    ConcludeInvestigation,
    ConcludeProsecution,
    ContributeToTrustFund,
    CorrectEvent,
    DeclineToInvestigate,
    DesignateFocalPoint,
    EstablishPaternity,
    FilePaternityClaim,
    IdentifyAllegedPerpetrator,
    ImposeSanction,
    JoinCircleOfLeadership,
    MakeCriminalReferral,
    NotifyMemberState,
    OpenInvestigation,
    ProvideVictimAssistance,
    PublishCase,
    RecordVictim,
    ReopenCase,
    RepatriatePersonnel,
    ReplyIntentToInvestigate,
    ReportAllegation,
    RequestFollowUp,
    RetractEvent,
    SignVoluntaryCompact,
    TakeInterimAction,
    case_stream,
)
from accountability.events.commands import Command as AnyCommand
from accountability.events.envelope import Envelope, StreamHead, derive_event_id, seal
from accountability.events.errors import DecodeError
from accountability.events.jsonschema import (
    COMMANDS_FILE,
    ENVELOPE_FILE,
    SCHEMA_DIR,
    event_schema_file,
    schema_documents,
)
from accountability.events.privacy import CaseKey, seal_text
from accountability.events.signing import Signature, b64, key_id_of
from accountability.events.types import CaseId, CommandId, CountryCode, Hash
from accountability.events.vocabulary import (
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
from accountability.events.wire import encode_command
from accountability.graphql.schema import SDL_PATH, sdl
from accountability.services.schemas import check_or_write, find_drift

FIX = "run `accountability schema --write` and commit the result"

# --- drift ------------------------------------------------------------------------------


def test_the_checked_in_graphql_sdl_is_the_generated_one():
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), f"{SDL_PATH.name} is out of date: {FIX}"


def test_the_checked_in_json_schemas_are_the_generated_ones():
    drift = [f"{d.path.name} ({d.kind})" for d in find_drift() if d.path != SDL_PATH]

    assert not drift, f"JSON Schemas out of date: {', '.join(drift)}; {FIX}"


def test_check_finds_missing_changed_and_stale_files_and_write_repairs_them(tmp_path, capsys):
    schemas, sdl_path = tmp_path / "schemas", tmp_path / "schema.graphql"

    assert check_or_write(False, schema_dir=schemas, sdl_path=sdl_path) == 1
    assert check_or_write(True, schema_dir=schemas, sdl_path=sdl_path) == 0
    assert check_or_write(False, schema_dir=schemas, sdl_path=sdl_path) == 0
    capsys.readouterr()

    changed = schemas / ENVELOPE_FILE
    changed.write_text(changed.read_text(encoding="utf-8").replace("sequence", "seq"), "utf-8")
    stale = schemas / "AllegationWithdrawn.v1.schema.json"
    stale.write_text("{}\n", "utf-8")
    assert check_or_write(False, schema_dir=schemas, sdl_path=sdl_path) == 1
    report = capsys.readouterr().err
    assert f"{changed.name}: differs" in report
    assert f"{stale.name}: stale" in report
    assert "accountability schema --write" in report

    assert check_or_write(True, schema_dir=schemas, sdl_path=sdl_path) == 0
    assert not stale.exists()
    assert find_drift(schemas, sdl_path) == []


# --- the schemas themselves ---------------------------------------------------------------


def _published(name: str) -> dict[str, object]:
    loaded = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _validator(schema: object) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", sorted(schema_documents()))
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    schema = _published(name)

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_ids_are_unique():
    ids = [document["$id"] for document in schema_documents().values()]

    assert len(set(ids)) == len(ids)


def test_a_payload_schema_carries_the_docstring_of_its_type_and_only_a_real_one():
    assert schema_documents()[event_schema_file(VictimRecorded)]["description"] == (
        VictimRecorded.__doc__
    )
    assert "description" not in schema_documents()[event_schema_file(CaseClosed)]


# --- every event type, sealed -------------------------------------------------------------

CASE = CaseId("C-5D41402ABC4B")
CAN = CountryCode("CAN")
OFFICER = Actor("officer-conduct-unit", Role.OFFICER)
CANADA = Actor("member_state-can", Role.MEMBER_STATE, CAN)
NAIROBI = timezone(timedelta(hours=3))
CORRECTED_EVENT = derive_event_id("3f1c9a52-0d47-4b8e-9c21-7a5e6b4d8f03", 0)
CORRECTED_SANCTION = canonical_json(
    to_json_object(
        SanctionImposed("P1", CAN, SanctionAuthority.MEMBER_STATE, SanctionKind.IMPRISONMENT, 12)
    )
).decode("utf-8")

EXAMPLES = [
    pytest.param(
        OFFICER,
        ReportAllegation(
            CASE,
            AllegationType.SEXUAL_EXPLOITATION,
            "MINUSCA",
            date(2024, 2, 1),
            incident_date_precision=DatePrecision.MONTH,
        ),
        AllegationReported(
            CASE,
            AllegationType.SEXUAL_EXPLOITATION,
            EntityKind.PEACEKEEPING,
            None,
            "MINUSCA",
            date(2024, 2, 1),
            DatePrecision.MONTH,
        ),
        id="AllegationReported",
    ),
    pytest.param(
        OFFICER,
        IdentifyAllegedPerpetrator(CASE, PersonnelCategory.MILITARY_MC, CAN, Sex.MALE),
        AllegedPerpetratorIdentified("P1", PersonnelCategory.MILITARY_MC, CAN, Sex.MALE),
        id="AllegedPerpetratorIdentified",
    ),
    pytest.param(
        OFFICER,
        RecordVictim(CASE, AgeGroup.CHILD, Sex.FEMALE),
        VictimRecorded("V1", AgeGroup.CHILD, Sex.FEMALE),
        id="VictimRecorded",
    ),
    pytest.param(
        OFFICER,
        NotifyMemberState(CASE, CAN),
        MemberStateNotified(CAN, nio_requested=True),
        id="MemberStateNotified",
    ),
    pytest.param(
        CANADA,
        ReplyIntentToInvestigate(CASE, CAN),
        MemberStateRepliedIntentToInvestigate(CAN),
        id="MemberStateRepliedIntentToInvestigate",
    ),
    pytest.param(
        CANADA,
        DeclineToInvestigate(CASE, CAN),
        MemberStateDeclinedToInvestigate(CAN),
        id="MemberStateDeclinedToInvestigate",
    ),
    pytest.param(
        CANADA,
        AppointNationalInvestigationOfficer(CASE, CAN),
        NationalInvestigationOfficerAppointed(CAN),
        id="NationalInvestigationOfficerAppointed",
    ),
    pytest.param(
        CANADA,
        OpenInvestigation(CASE, InvestigatingEntity.NIO, CAN, urgent=True),
        InvestigationOpened("I1", InvestigatingEntity.NIO, CAN, urgent=True),
        id="InvestigationOpened",
    ),
    pytest.param(
        CANADA,
        ConcludeInvestigation(CASE, "I1", Finding.SUBSTANTIATED, victims_interviewed=True),
        InvestigationConcluded(
            "I1", InvestigatingEntity.NIO, CAN, Finding.SUBSTANTIATED, True, days_taken=97
        ),
        id="InvestigationConcluded",
    ),
    pytest.param(
        CANADA,
        RepatriatePersonnel(CASE, "P1", disciplinary=True),
        PersonnelRepatriated("P1", CAN, disciplinary=True),
        id="PersonnelRepatriated",
    ),
    pytest.param(
        CANADA,
        ImposeSanction(CASE, "P1", SanctionKind.IMPRISONMENT, months=18),
        SanctionImposed("P1", CAN, SanctionAuthority.MEMBER_STATE, SanctionKind.IMPRISONMENT, 18),
        id="SanctionImposed",
    ),
    pytest.param(
        CANADA,
        ConcludeProsecution(CASE, "P1", ProsecutionOutcome.CONVICTED, sentence_months=24),
        ProsecutionConcluded("P1", CAN, ProsecutionOutcome.CONVICTED, sentence_months=24),
        id="ProsecutionConcluded",
    ),
    pytest.param(
        OFFICER,
        CloseCase(CASE, ClosureReason.ACTION_COMPLETED),
        CaseClosed(ClosureReason.ACTION_COMPLETED),
        id="CaseClosed",
    ),
    pytest.param(
        CANADA,
        SignVoluntaryCompact(CAN),
        VoluntaryCompactSigned(CAN),
        id="VoluntaryCompactSigned",
    ),
    pytest.param(
        CANADA,
        TakeInterimAction(CASE, "P1", InterimAction.PAYMENTS_SUSPENDED),
        InterimActionTaken("P1", CAN, InterimAction.PAYMENTS_SUSPENDED),
        id="InterimActionTaken",
    ),
    pytest.param(
        CANADA,
        MakeCriminalReferral(CASE, "P1"),
        CriminalReferralMade("P1", CAN),
        id="CriminalReferralMade",
    ),
    pytest.param(
        OFFICER,
        RequestFollowUp(CASE, CAN),
        FollowUpRequested(CAN),
        id="FollowUpRequested",
    ),
    pytest.param(
        OFFICER,
        PublishCase(CASE, "MINUSCA-2024-017"),
        CasePublished("MINUSCA-2024-017"),
        id="CasePublished",
    ),
    pytest.param(
        OFFICER,
        ReopenCase(CASE, ReopenReason.NEW_INFORMATION),
        CaseReopened(ReopenReason.NEW_INFORMATION),
        id="CaseReopened",
    ),
    pytest.param(
        CANADA,
        FilePaternityClaim(CASE, "P1"),
        PaternityClaimFiled("C1", "P1", CAN),
        id="PaternityClaimFiled",
    ),
    pytest.param(
        CANADA,
        EstablishPaternity(CASE, "C1"),
        PaternityEstablished("C1"),
        id="PaternityEstablished",
    ),
    pytest.param(
        CANADA,
        ArrangeChildSupport(CASE, "C1"),
        ChildSupportArranged("C1"),
        id="ChildSupportArranged",
    ),
    pytest.param(
        OFFICER,
        ProvideVictimAssistance(CASE, "V1", (AssistanceKind.MEDICAL, AssistanceKind.LEGAL)),
        VictimAssistanceProvided("V1", (AssistanceKind.MEDICAL, AssistanceKind.LEGAL)),
        id="VictimAssistanceProvided",
    ),
    pytest.param(
        CANADA,
        JoinCircleOfLeadership(CAN),
        CircleOfLeadershipJoined(CAN),
        id="CircleOfLeadershipJoined",
    ),
    pytest.param(
        CANADA,
        ContributeToTrustFund(CAN, 500_000),
        TrustFundContributionMade(CAN, 500_000),
        id="TrustFundContributionMade",
    ),
    pytest.param(
        CANADA,
        DesignateFocalPoint(CAN, FocalPointRole.PATERNITY),
        FocalPointDesignated(CAN, FocalPointRole.PATERNITY),
        id="FocalPointDesignated",
    ),
    pytest.param(
        CANADA,
        CorrectEvent(
            case_stream(CASE),
            CORRECTED_EVENT,
            CORRECTED_SANCTION,
            "sentence reduced on appeal",
            datetime(2024, 5, 30, 9, tzinfo=UTC),
        ),
        EventCorrected(
            CORRECTED_EVENT,
            CORRECTED_SANCTION,
            datetime(2024, 5, 30, 9, tzinfo=UTC),
            "sentence reduced on appeal",
            1,
        ),
        id="EventCorrected",
    ),
    pytest.param(
        OFFICER,
        RetractEvent(case_stream(CASE), CORRECTED_EVENT, "recorded in the wrong case"),
        EventRetracted(CORRECTED_EVENT, "recorded in the wrong case"),
        id="EventRetracted",
    ),
]


# Narratives, notes, erasure and signing keys.
SEALED = seal_text("Account as received.", CaseKey("0f1e2d3c4b5a6978", b"k" * 32), CASE, b"n" * 12)
CANADA_KEY = b64(
    Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    .public_key()
    .public_bytes(Encoding.Raw, PublicFormat.Raw)
)
CANADA_KEY_ID = key_id_of(base64.b64decode(CANADA_KEY))
EXAMPLES += [
    pytest.param(
        OFFICER, cm.RecordNarrative(CASE, SEALED), ev.NarrativeRecorded(SEALED),
        id="NarrativeRecorded",
    ),
    pytest.param(
        OFFICER, cm.AddCaseNote(CASE, SEALED), ev.CaseNoteAdded("N1", SEALED), id="CaseNoteAdded"
    ),
    pytest.param(
        OFFICER,
        cm.EraseVictimData(CASE, ErasureReason.VICTIM_REQUEST),
        ev.VictimDataErased("0f1e2d3c4b5a6978", ErasureReason.VICTIM_REQUEST),
        id="VictimDataErased",
    ),
    pytest.param(
        CANADA,
        cm.RegisterSigningKey(CAN, CANADA_KEY),
        ev.SigningKeyRegistered(CAN, CANADA_KEY_ID, CANADA_KEY),
        id="SigningKeyRegistered",
    ),
    pytest.param(
        CANADA,
        cm.RevokeSigningKey(CAN, CANADA_KEY_ID),
        ev.SigningKeyRevoked(CAN, CANADA_KEY_ID),
        id="SigningKeyRevoked",
    ),
]  # fmt: skip


def command_envelope(actor: Actor, command: AnyCommand) -> CommandEnvelope:
    command_id = "0b7e3c1a-52d4-4f7e-8a61-3c9d2e5f7a10"
    return CommandEnvelope(
        command_id=CommandId(command_id),
        correlation_id=command_id,
        actor=actor,
        issued_at=datetime(2024, 6, 3, 11, 2, 7, 125_000, tzinfo=NAIROBI),
        occurred_at=datetime(2024, 6, 3, 10, 45, tzinfo=NAIROBI),
        command=command,
    )


def sealed(actor, command, event) -> tuple[Envelope, bytes]:
    """The event as the decider would store it, the sixth of its stream."""
    head = StreamHead(5, Hash(hashlib.sha256(b"the fifth event").hexdigest()))
    recorded_at = datetime(2024, 6, 3, 8, 2, 7, 341_502, tzinfo=UTC)
    [stored] = seal(head, command_envelope(actor, command), [event], recorded_at)
    return stored


def test_the_examples_cover_every_event_type():
    assert sorted(str(p.id) for p in EXAMPLES) == sorted(EVENT_TYPES)


@pytest.mark.parametrize(("actor", "command", "event"), EXAMPLES)
def test_a_sealed_event_fits_the_envelope_schema_and_its_payload_schema(actor, command, event):
    _, raw = sealed(actor, command, event)
    document = json.loads(raw)

    _validator(_published(ENVELOPE_FILE)).validate(document)
    _validator(_published(event_schema_file(type(event)))).validate(document["payload"])


@pytest.mark.parametrize(("actor", "command", "event"), EXAMPLES)
def test_the_command_behind_each_example_fits_the_commands_schema(actor, command, event):
    document = json.loads(encode_command(command_envelope(actor, command)))

    _validator(_published(COMMANDS_FILE)).validate(document)


def test_a_signed_command_and_its_event_fit_the_schemas_and_an_unsigned_one_has_no_signature():
    command = replace(
        command_envelope(CANADA, ReplyIntentToInvestigate(CASE, CAN)),
        signature=Signature(CANADA_KEY_ID, b"s" * 64),
    )
    head = StreamHead(5, Hash(hashlib.sha256(b"the fifth event").hexdigest()))
    [(_, raw)] = seal(head, command, [MemberStateRepliedIntentToInvestigate(CAN)], NAIROBI_NOON)
    document = json.loads(raw)

    _validator(_published(COMMANDS_FILE)).validate(json.loads(encode_command(command)))
    _validator(_published(ENVELOPE_FILE)).validate(document)
    assert document["signature"]["command"] == {
        "type": "ReplyIntentToInvestigate",
        "payload": {"case_id": CASE, "member_state": "CAN"},
    }
    _, unsigned = sealed(CANADA, ReplyIntentToInvestigate(CASE, CAN),
                         MemberStateRepliedIntentToInvestigate(CAN))  # fmt: skip
    assert b'"signature"' not in unsigned
    broken = {**document, "signature": {**document["signature"], "signature": "short"}}
    with pytest.raises(jsonschema.ValidationError):
        _validator(_published(ENVELOPE_FILE)).validate(broken)


NAIROBI_NOON = datetime(2024, 6, 3, 9, tzinfo=UTC)


@pytest.mark.parametrize(("actor", "command", "event"), EXAMPLES)
def test_a_command_payload_may_leave_out_what_has_a_default(actor, command, event):
    cls = type(command)
    defs = _published(COMMANDS_FILE)["$defs"]
    assert isinstance(defs, dict)
    required = defs[cls.__name__]["required"]
    minimal = {name: value for name, value in to_json_object(command).items() if name in required}

    _validator(defs[cls.__name__]).validate(minimal)
    assert isinstance(from_json_object(cls, minimal), cls)


def test_every_command_type_has_a_payload_schema():
    defs = _published(COMMANDS_FILE)["$defs"]
    assert isinstance(defs, dict)

    assert set(COMMAND_TYPES) <= set(defs)


# --- what the schemas refuse ------------------------------------------------------------------

REMOVED = object()
CONCLUDED = "InvestigationConcluded"
REPORTED = "AllegationReported"


def _example(type_name: str) -> dict[str, object]:
    [example] = [p for p in EXAMPLES if p.id == type_name]
    _, raw = sealed(*example.values)
    document = json.loads(raw)
    assert isinstance(document, dict)
    return document


def _change(document: dict[str, object], path: str, value: object) -> None:
    *parents, name = path.split(".")
    target = document
    for key in parents:
        child = target[key]
        assert isinstance(child, dict)
        target = child
    if value is REMOVED:
        del target[name]
    else:
        target[name] = value


@pytest.mark.parametrize(
    ("type_name", "path", "value", "where"),
    [
        pytest.param(CONCLUDED, "payload.note", "x", "payload", id="unknown payload field"),
        pytest.param(CONCLUDED, "origin", "api", "", id="unknown envelope field"),
        pytest.param(CONCLUDED, "payload.finding", REMOVED, "payload", id="missing payload field"),
        pytest.param(
            CONCLUDED, "payload.finding", "proven", "payload.finding", id="wrong enum value"
        ),
        pytest.param(
            REPORTED,
            "payload.allegation_type",
            "se",
            "payload.allegation_type",
            id="enum value in the wrong case",
        ),
        pytest.param(
            CONCLUDED,
            "payload.days_taken",
            None,
            "payload.days_taken",
            id="null for a required value",
        ),
        pytest.param(
            CONCLUDED, "payload.days_taken", "97", "payload.days_taken", id="integer as a string"
        ),
        pytest.param(
            CONCLUDED, "payload.days_taken", 97.5, "payload.days_taken", id="float for an integer"
        ),
        pytest.param(
            CONCLUDED,
            "payload.victims_interviewed",
            1,
            "payload.victims_interviewed",
            id="integer for a boolean",
        ),
        pytest.param(
            CONCLUDED,
            "payload.member_state",
            "can",
            "payload.member_state",
            id="lower-case country",
        ),
        pytest.param(
            REPORTED,
            "payload.incident_date",
            "11/02/2024",
            "payload.incident_date",
            id="date not ISO 8601",
        ),
        pytest.param(CONCLUDED, "type", "CaseClosed", "payload", id="payload of another type"),
        pytest.param(CONCLUDED, "type", "AllegationWithdrawn", "type", id="unknown type"),
        pytest.param(CONCLUDED, "schema_version", 2, "schema_version", id="unknown schema version"),
        pytest.param(
            CONCLUDED, "occurred_at", "2024-06-03T10:45:00", "occurred_at", id="naive datetime"
        ),
        pytest.param(CONCLUDED, "recorded_at", "2024-06-03", "recorded_at", id="date for instant"),
        pytest.param(CONCLUDED, "hash", "AB" * 32, "hash", id="upper-case hash"),
        pytest.param(CONCLUDED, "hash", "g" * 64, "hash", id="hash not hex"),
        pytest.param(CONCLUDED, "prev_hash", "0" * 63, "prev_hash", id="short prev_hash"),
        pytest.param(CONCLUDED, "event_id", "evt-1", "event_id", id="event_id not a UUID"),
        pytest.param(CONCLUDED, "sequence", 0, "sequence", id="sequence 0"),
        pytest.param(CONCLUDED, "stream_id", "C-5D41402ABC4B", "stream_id", id="stream, no kind"),
        pytest.param(CONCLUDED, "command_id", "", "command_id", id="empty command_id"),
        pytest.param(CONCLUDED, "actor.role", "admin", "actor.role", id="unknown role"),
        pytest.param(
            CONCLUDED, "actor.member_state", "CA", "actor.member_state", id="two-letter country"
        ),
        pytest.param(CONCLUDED, "actor.name", "Canada", "actor", id="extra actor field"),
        pytest.param(
            CONCLUDED, "actor.member_state", REMOVED, "actor", id="actor without member_state"
        ),
    ],
)
def test_the_envelope_schema_refuses_a_broken_event(type_name, path, value, where):
    document = _example(type_name)
    _change(document, path, value)

    errors = list(_validator(_published(ENVELOPE_FILE)).iter_errors(document))

    assert errors, "the broken event was accepted"
    found = [(".".join(map(str, e.absolute_path)), e.message) for e in errors]
    assert any(at == where for at, _ in found), found


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        pytest.param("CloseCase", {"reason": "action_completed"}, id="missing case_id"),
        pytest.param(
            "RecordVictim",
            {"case_id": "C-1", "age_group": "adult", "sex": None},
            id="null for a default",
        ),
        pytest.param("CloseCase", {"case_id": "C-1", "reason": "done"}, id="wrong enum value"),
        pytest.param(
            "SignVoluntaryCompact", {"member_state": "CAN", "signed": True}, id="unknown field"
        ),
        pytest.param(
            "NotifyMemberState", {"case_id": "C-1", "member_state": "Canada"}, id="country name"
        ),
    ],
)
def test_the_commands_schema_refuses_a_broken_payload(name, payload):
    defs = _published(COMMANDS_FILE)["$defs"]
    assert isinstance(defs, dict)

    assert not _validator(defs[name]).is_valid(payload)


# --- instants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2024-06-03T07:45:00.000000Z", "2024-06-03T10:45:00+03:00", "2024-06-03T02:45:00.5-05:00"],
)
def test_an_instant_the_schema_accepts_is_one_the_codec_reads(text):
    document = _example(CONCLUDED)
    document["occurred_at"] = text

    _validator(_published(ENVELOPE_FILE)).validate(document)
    assert parse_instant(text).tzinfo is UTC


@pytest.mark.parametrize("text", ["2024-06-03T10:45:00", "2024-06-03 10:45:00", "2024-06-03"])
def test_an_instant_without_offset_is_refused_by_schema_and_codec(text):
    document = _example(CONCLUDED)
    document["occurred_at"] = text

    assert not _validator(_published(ENVELOPE_FILE)).is_valid(document)
    with pytest.raises(DecodeError):
        parse_instant(text)
