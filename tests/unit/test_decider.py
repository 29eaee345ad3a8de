"""Given-when-then tests of the decider: every command, its events and every rejection.

``given`` decides, seals and evolves each command in turn, so the state under test
has a real hash chain; ``when`` decides one more command; ``then_events`` and
``then_rejected`` say what must come of it. The n-th step of a ``given`` records the
event ``nth(n)``, which corrections and retractions name.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accountability.events.case import CaseState, FollowUp, PaternityClaim
from accountability.events.catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    CasePublished,
    CaseReopened,
    ChildSupportArranged,
    CircleOfLeadershipJoined,
    CriminalReferralMade,
    Event,
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
    NarrativeRecorded,
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
from accountability.events.codec import canonical_json, to_json_object
from accountability.events.commands import (
    COMMAND_TYPES,
    Actor,
    AddCaseNote,
    AppointNationalInvestigationOfficer,
    ArrangeChildSupport,
    CaseCommand,
    CloseCase,
    Command,
    CommandEnvelope,
    ConcludeInvestigation,
    ConcludeProsecution,
    ContributeToTrustFund,
    CorrectEvent,
    DeclineToInvestigate,
    DesignateFocalPoint,
    EraseVictimData,
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
    RecordNarrative,
    RecordVictim,
    RegisterSigningKey,
    ReopenCase,
    RepatriatePersonnel,
    ReplyIntentToInvestigate,
    ReportAllegation,
    RequestFollowUp,
    RetractEvent,
    RevokeSigningKey,
    SignVoluntaryCompact,
    TakeInterimAction,
    case_stream,
    state_stream,
)
from accountability.events.decider import (
    StreamState,
    decide,
    evolve,
    fold,
    initial_state,
    is_duplicate,
)
from accountability.events.envelope import (
    Envelope,
    StreamHead,
    derive_event_id,
    encode_envelope,
    seal,
    stored_hash_of,
    verify_link,
)
from accountability.events.errors import Rejection
from accountability.events.member_state import Contribution, MemberStateRecord
from accountability.events.privacy import CaseKey, SealedText, seal_text
from accountability.events.rules import CLOCK_SKEW, REASON_LIMIT, Rule
from accountability.events.signing import Signature, b64, key_id_of
from accountability.events.types import CaseId, CommandId, CountryCode, StreamId
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

# --- the world of these tests ---------------------------------------------------------

T0 = datetime(2024, 1, 8, 9, tzinfo=UTC)
"""A Monday: the allegation is received then, and ``given`` steps follow an hour apart."""
LATER = T0 + timedelta(days=30)
NOW = datetime(2024, 12, 31, 12, tzinfo=UTC)
CASE = "C-2024-001"

OFFICER = Actor("officer-1", Role.OFFICER)
OVERSIGHT = Actor("panel-1", Role.OVERSIGHT)


def member_state(code: str) -> Actor:
    return Actor(f"mission-{code.lower()}", Role.MEMBER_STATE, CountryCode(code))


GABON = member_state("GAB")
NEPAL = member_state("NPL")
FRANCE = member_state("FRA")
PAKISTAN = member_state("PAK")

MC = PersonnelCategory.MILITARY_MC
FPU = PersonnelCategory.POLICE_FPU
CIVILIAN = PersonnelCategory.CIVILIAN_INT
OIOS = InvestigatingEntity.OIOS
NIO = InvestigatingEntity.NIO


# --- command factories: valid by default, one field changed per test ----------------


def report(
    case_id: str = CASE,
    allegation_type: AllegationType = AllegationType.SEXUAL_ABUSE,
    mission: str | None = "MINUSCA",
    incident_date: date | None = date(2023, 12, 24),
    *,
    entity: EntityKind = EntityKind.PEACEKEEPING,
    entity_name: str | None = None,
    precision: DatePrecision | None = None,
) -> ReportAllegation:
    return ReportAllegation(
        CaseId(case_id), allegation_type, mission, incident_date, entity, entity_name, precision
    )


def reported(
    mission: str | None = "MINUSCA",
    incident_date: date | None = date(2023, 12, 24),
    entity: EntityKind = EntityKind.PEACEKEEPING,
    entity_name: str | None = None,
    precision: DatePrecision = DatePrecision.DAY,
) -> AllegationReported:
    """The event of ``report()`` with the same changes."""
    return AllegationReported(
        CaseId(CASE), AllegationType.SEXUAL_ABUSE, entity, entity_name, mission, incident_date,
        precision,
    )  # fmt: skip


def identify(
    nationality: str = "GAB",
    category: PersonnelCategory = MC,
    perpetrator_id: str | None = None,
    sex: Sex = Sex.MALE,
    case_id: str = CASE,
) -> IdentifyAllegedPerpetrator:
    return IdentifyAllegedPerpetrator(
        CaseId(case_id), category, CountryCode(nationality), sex, perpetrator_id
    )


def victim(
    victim_id: str | None = None,
    age_group: AgeGroup = AgeGroup.CHILD,
    sex: Sex = Sex.FEMALE,
    case_id: str = CASE,
) -> RecordVictim:
    return RecordVictim(CaseId(case_id), age_group, sex, victim_id)


def notify(ms: str = "GAB", nio_requested: bool = True, case_id: str = CASE) -> NotifyMemberState:
    return NotifyMemberState(CaseId(case_id), CountryCode(ms), nio_requested)


def reply(ms: str = "GAB", case_id: str = CASE) -> ReplyIntentToInvestigate:
    return ReplyIntentToInvestigate(CaseId(case_id), CountryCode(ms))


def decline(ms: str = "GAB", case_id: str = CASE) -> DeclineToInvestigate:
    return DeclineToInvestigate(CaseId(case_id), CountryCode(ms))


def appoint(ms: str = "GAB", case_id: str = CASE) -> AppointNationalInvestigationOfficer:
    return AppointNationalInvestigationOfficer(CaseId(case_id), CountryCode(ms))


def open_investigation(
    entity: InvestigatingEntity = NIO,
    ms: str | None = "GAB",
    investigation_id: str | None = None,
    urgent: bool = False,
    case_id: str = CASE,
) -> OpenInvestigation:
    country = CountryCode(ms) if ms is not None else None
    return OpenInvestigation(CaseId(case_id), entity, country, urgent, investigation_id)


def conclude(
    investigation_id: str = "I1",
    finding: Finding = Finding.SUBSTANTIATED,
    victims_interviewed: bool = True,
    case_id: str = CASE,
) -> ConcludeInvestigation:
    return ConcludeInvestigation(CaseId(case_id), investigation_id, finding, victims_interviewed)


def repatriate(
    perpetrator_id: str = "P1", disciplinary: bool = True, case_id: str = CASE
) -> RepatriatePersonnel:
    return RepatriatePersonnel(CaseId(case_id), perpetrator_id, disciplinary)


def sanction(
    perpetrator_id: str = "P1",
    kind: SanctionKind = SanctionKind.IMPRISONMENT,
    imposed_by: SanctionAuthority = SanctionAuthority.MEMBER_STATE,
    months: int | None = 24,
    case_id: str = CASE,
) -> ImposeSanction:
    return ImposeSanction(CaseId(case_id), perpetrator_id, kind, imposed_by, months)


def prosecute(
    perpetrator_id: str = "P1",
    outcome: ProsecutionOutcome = ProsecutionOutcome.CONVICTED,
    sentence_months: int | None = 36,
    case_id: str = CASE,
) -> ConcludeProsecution:
    return ConcludeProsecution(CaseId(case_id), perpetrator_id, outcome, sentence_months)


def close(reason: ClosureReason = ClosureReason.ACTION_COMPLETED, case_id: str = CASE) -> CloseCase:
    return CloseCase(CaseId(case_id), reason)


def interim(
    perpetrator_id: str = "P1",
    action: InterimAction = InterimAction.PAYMENTS_SUSPENDED,
    case_id: str = CASE,
) -> TakeInterimAction:
    return TakeInterimAction(CaseId(case_id), perpetrator_id, action)


def refer(perpetrator_id: str = "P1", case_id: str = CASE) -> MakeCriminalReferral:
    return MakeCriminalReferral(CaseId(case_id), perpetrator_id)


def ask_again(ms: str = "GAB", case_id: str = CASE) -> RequestFollowUp:
    return RequestFollowUp(CaseId(case_id), CountryCode(ms))


def publish(reference: str | None = "MINUSCA-2024-001", case_id: str = CASE) -> PublishCase:
    return PublishCase(CaseId(case_id), reference)


def reopen(reason: ReopenReason = ReopenReason.NEW_INFORMATION, case_id: str = CASE) -> ReopenCase:
    return ReopenCase(CaseId(case_id), reason)


def claim(
    perpetrator_id: str | None = "P1", claim_id: str | None = None, case_id: str = CASE
) -> FilePaternityClaim:
    return FilePaternityClaim(CaseId(case_id), perpetrator_id, claim_id)


def establish(claim_id: str = "C1", case_id: str = CASE) -> EstablishPaternity:
    return EstablishPaternity(CaseId(case_id), claim_id)


def support(claim_id: str = "C1", case_id: str = CASE) -> ArrangeChildSupport:
    return ArrangeChildSupport(CaseId(case_id), claim_id)


MEDICAL, PSYCHOSOCIAL = AssistanceKind.MEDICAL, AssistanceKind.PSYCHOSOCIAL


def assist(
    victim_id: str = "V1",
    kinds: tuple[AssistanceKind, ...] = (MEDICAL, PSYCHOSOCIAL),
    case_id: str = CASE,
) -> ProvideVictimAssistance:
    return ProvideVictimAssistance(CaseId(case_id), victim_id, kinds)


def compact(ms: str = "GAB") -> SignVoluntaryCompact:
    return SignVoluntaryCompact(CountryCode(ms))


def circle(ms: str = "GAB") -> JoinCircleOfLeadership:
    return JoinCircleOfLeadership(CountryCode(ms))


def contribute(ms: str = "GAB", amount_usd: int = 250_000) -> ContributeToTrustFund:
    return ContributeToTrustFund(CountryCode(ms), amount_usd)


def designate(
    ms: str = "GAB", role: FocalPointRole = FocalPointRole.PATERNITY
) -> DesignateFocalPoint:
    return DesignateFocalPoint(CountryCode(ms), role)


CASE_KEY = CaseKey("00112233445566aa", b"\x01" * 32)
OTHER_CASE_KEY = CaseKey("ffeeddccbbaa9988", b"\x02" * 32)


def sealed(text: str = "Account as received.", key: CaseKey = CASE_KEY) -> SealedText:
    return seal_text(text, key, CASE, b"\x00" * 12)


def narrate(text: str | None = None, key: CaseKey = CASE_KEY) -> RecordNarrative:
    """Record a narrative; ``text``, when given, is passed as it is (sealed or not)."""
    return RecordNarrative(CaseId(CASE), SealedText(text) if text is not None else sealed(key=key))


def note(note_id: str | None = None, key: CaseKey = CASE_KEY) -> AddCaseNote:
    return AddCaseNote(CaseId(CASE), sealed("A note.", key), note_id)


def erase(reason: ErasureReason = ErasureReason.VICTIM_REQUEST) -> EraseVictimData:
    return EraseVictimData(CaseId(CASE), reason)


GAB_SIGNER = Ed25519PrivateKey.from_private_bytes(b"\x03" * 32)
OTHER_SIGNER = Ed25519PrivateKey.from_private_bytes(b"\x04" * 32)


def public_key(signer: Ed25519PrivateKey) -> str:
    return b64(signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


GAB_KEY_ID = key_id_of(GAB_SIGNER.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def register(ms: str = "GAB", key: str | None = None) -> RegisterSigningKey:
    return RegisterSigningKey(CountryCode(ms), key if key is not None else public_key(GAB_SIGNER))


def revoke(key_id: str = GAB_KEY_ID, ms: str = "GAB") -> RevokeSigningKey:
    return RevokeSigningKey(CountryCode(ms), key_id)


Signer = Callable[[CommandEnvelope], Signature]
"""How a step or a command is signed: with a real key, or forged."""


def signed_by(private: Ed25519PrivateKey) -> Signer:
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return lambda command: Signature(key_id_of(raw), private.sign(command.statement()))


def forged(key_id: str = GAB_KEY_ID) -> Signer:
    return lambda command: Signature(key_id, b"\x00" * 64)


BY_GABON = signed_by(GAB_SIGNER)


def nth(step: int) -> str:
    """The id of the event that the ``step``-th command of a ``given`` recorded."""
    return derive_event_id(f"given-{step}", 0)


def payload(event: Event) -> str:
    return canonical_json(to_json_object(event)).decode("utf-8")


CASE_STREAM = case_stream(CASE)
GAB_STREAM = state_stream("GAB")


def correct(
    step: int,
    corrected: Event | str,
    at: datetime | None = None,
    reason: str = "recorded in error",
    stream: StreamId = CASE_STREAM,
) -> CorrectEvent:
    text = corrected if isinstance(corrected, str) else payload(corrected)
    return CorrectEvent(stream, nth(step), text, reason, at)


def retract(
    step: int, reason: str = "recorded in error", stream: StreamId = CASE_STREAM
) -> RetractEvent:
    return RetractEvent(stream, nth(step), reason)


# --- given, when, then ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a ``given``: by whom and when (by default an hour after the last)."""

    command: Command
    actor: Actor = OFFICER
    at: datetime | None = None
    signer: Signer | None = None


Steps = tuple[Command | Step, ...]


def envelope(
    command: Command,
    actor: Actor = OFFICER,
    at: datetime = LATER,
    command_id: str | None = None,
    signer: Signer | None = None,
) -> CommandEnvelope:
    unsigned = CommandEnvelope(
        command_id=CommandId(command_id or f"cmd-{uuid4()}"),
        correlation_id="corr-test",
        actor=actor,
        issued_at=at,
        occurred_at=at,
        command=command,
    )
    return unsigned if signer is None else replace(unsigned, signature=signer(unsigned))


def record(*steps: Command | Step) -> tuple[StreamState, list[Envelope]]:
    """Decide, seal (checking every link) and evolve each step; fail if one is rejected."""
    state: StreamState | None = None
    envelopes: list[Envelope] = []
    clock = T0 - timedelta(hours=1)
    for number, item in enumerate(steps, 1):
        step = item if isinstance(item, Step) else Step(item)
        clock = step.at if step.at is not None else clock + timedelta(hours=1)
        command = envelope(step.command, step.actor, clock, f"given-{number}", step.signer)
        if state is None:
            state = initial_state(command.stream_id)
        try:
            events = decide(state, command, NOW)
        except Rejection as rejection:
            pytest.fail(f"given step {number} ({command.type}) was rejected: {rejection!r}")
        for sealed, raw in seal(state.head, command, events, NOW):
            assert verify_link(raw, state.head) == sealed
            state = evolve(state, sealed)
            envelopes.append(sealed)
    assert state is not None, "given() needs at least one command"
    return state, envelopes


def given(*steps: Command | Step) -> StreamState:
    return record(*steps)[0]


def nothing(stream_id: StreamId) -> StreamState:
    return initial_state(stream_id)


def arrange(steps: Steps, command: Command) -> StreamState:
    """The state of a table row: its steps, or the empty stream of its command."""
    return given(*steps) if steps else nothing(command.stream_id)


def when(
    state: StreamState,
    command: Command,
    actor: Actor = OFFICER,
    at: datetime = LATER,
    signer: Signer | None = None,
) -> list[Event]:
    return decide(state, envelope(command, actor, at, signer=signer), NOW)


def then_events(events: list[Event], *expected: Event) -> None:
    assert events == list(expected)


@contextmanager
def then_rejected(code: Rule, field: str | None) -> Iterator[None]:
    with pytest.raises(Rejection) as raised:
        yield
    rejection = raised.value
    assert (rejection.code, rejection.field) == (code, field), rejection.message
    assert rejection.message


def case(state: StreamState) -> CaseState:
    assert isinstance(state, CaseState)
    return state


# --- scenarios ------------------------------------------------------------------------
# Steps are an hour apart from T0: P1 at T0+1h, notification at T0+4h, I1 opened at +6h.

REPORTED: Steps = (report(),)
ONLY_GAB: Steps = (*REPORTED, identify("GAB", MC))
INVOLVING: Steps = (
    *REPORTED,
    identify("GAB", MC),  # P1
    identify("NPL", FPU),  # P2
    identify("FRA", CIVILIAN),  # P3: a national, but not uniformed
)
NOTIFIED: Steps = (*INVOLVING, notify("GAB"))
REPLIED: Steps = (*NOTIFIED, reply("GAB"))
DECLINED: Steps = (*NOTIFIED, decline("GAB"))
APPOINTED: Steps = (*REPLIED, appoint("GAB"))
INVESTIGATING: Steps = (*REPLIED, open_investigation(NIO, "GAB"))  # I1
SUBSTANTIATED: Steps = (*INVESTIGATING, conclude("I1"))
UNSUBSTANTIATED: Steps = (*INVESTIGATING, conclude("I1", Finding.NOT_SUBSTANTIATED))
UN_INVESTIGATING: Steps = (*INVOLVING, open_investigation(OIOS, None))  # I1, by OIOS
UN_SUBSTANTIATED: Steps = (*UN_INVESTIGATING, conclude("I1"))  # a finding on the whole case
CLOSED: Steps = (*SUBSTANTIATED, close())
BOTH_NOTIFIED: Steps = (*INVOLVING, notify("GAB"), notify("NPL"))
BOTH_INVESTIGATING: Steps = (*BOTH_NOTIFIED, open_investigation(NIO, "GAB"))  # I1, Gabon's
SIGNED: Steps = (compact("GAB"),)
JOINED: Steps = (circle("GAB"),)
REFERRED: Steps = (*SUBSTANTIATED, refer("P1"))
PUBLISHED: Steps = (*ONLY_GAB, publish())
REOPENED: Steps = (*CLOSED, reopen())
WITH_VICTIM: Steps = (*ONLY_GAB, victim())  # V1
CLAIMED: Steps = (*INVOLVING, claim("P1"))  # C1, Gabon's
UNNAMED_CLAIM: Steps = (*INVOLVING, claim(None))  # C1, of no state
ESTABLISHED: Steps = (*CLAIMED, establish("C1"))
SUPPORTED: Steps = (*ESTABLISHED, support("C1"))

# The step that recorded each event of the scenarios above, for corrections to name.
REPORT, P1, P2, P3, GAB_NOTIFIED, GAB_REPLIED, I1_OPENED, I1_CONCLUDED, CLOSURE = range(1, 10)
GAB_SANCTIONED: Steps = (*SUBSTANTIATED, Step(sanction("P1"), GABON))  # step 9, by Gabon
SANCTION = 9
WITHDRAWN: Steps = (*INVOLVING, retract(REPORT))


def identified(
    perpetrator_id: str, nationality: str, category: PersonnelCategory = MC, sex: Sex = Sex.MALE
) -> AllegedPerpetratorIdentified:
    return AllegedPerpetratorIdentified(perpetrator_id, category, CountryCode(nationality), sex)


P1_AS_NEPALESE = identified("P1", "NPL")
NARRATED: Steps = (*REPORTED, narrate())  # the narrative is step 2
ERASED: Steps = (*NARRATED, erase())  # the erasure is step 3
KEYED: Steps = (Step(register(), GABON),)  # Gabon's first key, unsigned: it had none
REVOKED_AND_REKEYED: Steps = (
    *KEYED,
    Step(register(key=public_key(OTHER_SIGNER)), GABON, signer=BY_GABON),
    Step(revoke(), GABON, signer=signed_by(OTHER_SIGNER)),
)
CORRECTED: Steps = (*INVOLVING, correct(P1, P1_AS_NEPALESE))  # step 5


def at_day(days: float) -> datetime:
    return T0 + timedelta(days=days)


# --- rejections -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row of the rejection table: given ``steps``, ``command`` is refused with ``code``."""

    steps: Steps
    command: Command
    code: Rule
    field: str | None
    actor: Actor
    at: datetime
    signer: Signer | None = None


def rejects(
    id: str,
    steps: Steps,
    command: Command,
    code: Rule,
    field: str | None,
    *,
    actor: Actor = OFFICER,
    at: datetime = LATER,
    signer: Signer | None = None,
) -> Any:
    return pytest.param(Rejected(steps, command, code, field, actor, at, signer), id=id)


REJECTIONS = [
    # any command
    rejects("any/future-beyond-clock-skew", REPORTED, identify(), Rule.FUTURE_DATE, "occurred_at",
            at=NOW + CLOCK_SKEW + timedelta(microseconds=1)),
    rejects("any/report-in-future", (), report(), Rule.FUTURE_DATE, "occurred_at",
            at=NOW + timedelta(days=1)),
    rejects("any/compact-in-future", (), compact(), Rule.FUTURE_DATE, "occurred_at",
            at=NOW + timedelta(hours=1)),
    rejects("any/bad-case-id", (), notify(case_id="no spaces"), Rule.INVALID_IDENTIFIER,
            "case_id"),
    rejects("any/case-not-found", (), notify(), Rule.CASE_NOT_FOUND, "case_id"),
    rejects("any/case-not-found-for-member-state", (), reply(), Rule.CASE_NOT_FOUND, "case_id",
            actor=GABON),
    rejects("any/before-allegation-received", INVOLVING, notify(), Rule.OUT_OF_ORDER,
            "occurred_at", at=T0 - timedelta(seconds=1)),
    rejects("any/closed", CLOSED, victim(), Rule.CASE_CLOSED, "case_id"),
    rejects("any/case-command-on-state-stream", SIGNED, notify(), Rule.INVALID_VALUE, None),
    rejects("any/member-state-before-any-perpetrator", REPORTED, reply(),
            Rule.FORBIDDEN_MEMBER_STATE, "case_id", actor=GABON),
    rejects("any/member-state-not-involved", ONLY_GAB, repatriate(), Rule.FORBIDDEN_MEMBER_STATE,
            "case_id", actor=NEPAL),
    # ReportAllegation
    rejects("report/by-member-state", (), report(), Rule.FORBIDDEN_ROLE, None, actor=GABON),
    rejects("report/by-oversight", (), report(), Rule.FORBIDDEN_ROLE, None, actor=OVERSIGHT),
    rejects("report/bad-case-id", (), report(case_id="-starts-with-dash"),
            Rule.INVALID_IDENTIFIER, "case_id"),
    rejects("report/case-id-too-long", (), report(case_id="C" * 65), Rule.INVALID_IDENTIFIER,
            "case_id"),
    rejects("report/empty-case-id", (), report(case_id=""), Rule.INVALID_IDENTIFIER, "case_id"),
    rejects("report/already-reported", REPORTED, report(), Rule.CASE_ALREADY_REPORTED, "case_id"),
    rejects("report/already-reported-and-closed", CLOSED, report(), Rule.CASE_ALREADY_REPORTED,
            "case_id"),
    rejects("report/unknown-mission", (), report(mission="MINUSXX"), Rule.UNKNOWN_MISSION,
            "mission"),
    rejects("report/incident-after-receipt", (), report(incident_date=date(2024, 1, 9)),
            Rule.OUT_OF_ORDER, "incident_date", at=T0),
    # IdentifyAllegedPerpetrator
    rejects("identify/unknown-nationality", REPORTED, identify("XXX"), Rule.UNKNOWN_COUNTRY,
            "nationality"),
    rejects("identify/lower-case-nationality", REPORTED, identify("gab"), Rule.UNKNOWN_COUNTRY,
            "nationality"),
    rejects("identify/bad-id", REPORTED, identify(perpetrator_id="P 1"), Rule.INVALID_IDENTIFIER,
            "perpetrator_id"),
    rejects("identify/duplicate-id", INVOLVING, identify(perpetrator_id="P2"),
            Rule.DUPLICATE_PERPETRATOR, "perpetrator_id"),
    rejects("identify/by-member-state", ONLY_GAB, identify("GAB"), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    # RecordVictim
    rejects("victim/bad-id", REPORTED, victim("V/1"), Rule.INVALID_IDENTIFIER, "victim_id"),
    rejects("victim/a-name-as-id", REPORTED, victim("initials-AB"), Rule.INVALID_IDENTIFIER,
            "victim_id"),
    rejects("victim/number-with-zero", REPORTED, victim("V01"), Rule.INVALID_IDENTIFIER,
            "victim_id"),
    rejects("victim/duplicate-id", (*REPORTED, victim()), victim("V1"), Rule.DUPLICATE_VICTIM,
            "victim_id"),
    rejects("victim/by-member-state", ONLY_GAB, victim(), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    # NotifyMemberState
    rejects("notify/unknown-country", INVOLVING, notify("XXX"), Rule.UNKNOWN_COUNTRY,
            "member_state"),
    rejects("notify/no-national", INVOLVING, notify("PAK"), Rule.STATE_NOT_INVOLVED,
            "member_state"),
    rejects("notify/civilian-national-only", INVOLVING, notify("FRA"), Rule.STATE_NOT_INVOLVED,
            "member_state"),
    rejects("notify/already-notified", NOTIFIED, notify("GAB"), Rule.ALREADY_NOTIFIED,
            "member_state"),
    rejects("notify/by-member-state", INVOLVING, notify("GAB"), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    # ReplyIntentToInvestigate
    rejects("reply/unknown-country", NOTIFIED, reply("XXX"), Rule.UNKNOWN_COUNTRY,
            "member_state"),
    rejects("reply/not-notified", NOTIFIED, reply("NPL"), Rule.NOT_NOTIFIED, "member_state"),
    rejects("reply/already-replied", REPLIED, reply("GAB"), Rule.ALREADY_REPLIED,
            "member_state"),
    rejects("reply/after-declining", DECLINED, reply("GAB"), Rule.ALREADY_REPLIED,
            "member_state"),
    rejects("reply/before-notification", (*INVOLVING, Step(notify("GAB"), at=at_day(2))),
            reply("GAB"), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(1)),
    rejects("reply/for-another-state", BOTH_NOTIFIED, reply("GAB"), Rule.FORBIDDEN_MEMBER_STATE,
            "member_state", actor=NEPAL),
    rejects("reply/by-oversight", NOTIFIED, reply("GAB"), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # DeclineToInvestigate
    rejects("decline/unknown-country", NOTIFIED, decline("XXX"), Rule.UNKNOWN_COUNTRY,
            "member_state"),
    rejects("decline/not-notified", NOTIFIED, decline("NPL"), Rule.NOT_NOTIFIED, "member_state"),
    rejects("decline/after-intent", REPLIED, decline("GAB"), Rule.ALREADY_REPLIED,
            "member_state"),
    rejects("decline/already-declined", DECLINED, decline("GAB"), Rule.ALREADY_REPLIED,
            "member_state"),
    rejects("decline/before-notification", (*INVOLVING, Step(notify("GAB"), at=at_day(2))),
            decline("GAB"), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(1)),
    rejects("decline/for-another-state", BOTH_NOTIFIED, decline("NPL"),
            Rule.FORBIDDEN_MEMBER_STATE, "member_state", actor=GABON),
    # AppointNationalInvestigationOfficer
    rejects("appoint/unknown-country", NOTIFIED, appoint("XXX"), Rule.UNKNOWN_COUNTRY,
            "member_state"),
    rejects("appoint/not-notified", NOTIFIED, appoint("NPL"), Rule.NOT_NOTIFIED, "member_state"),
    rejects("appoint/after-declining", DECLINED, appoint("GAB"), Rule.DECLINED_TO_INVESTIGATE,
            "member_state"),
    rejects("appoint/already-appointed", APPOINTED, appoint("GAB"), Rule.ALREADY_APPOINTED,
            "member_state"),
    rejects("appoint/before-notification", (*INVOLVING, Step(notify("GAB"), at=at_day(2))),
            appoint("GAB"), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(1)),
    rejects("appoint/for-another-state", BOTH_NOTIFIED, appoint("GAB"),
            Rule.FORBIDDEN_MEMBER_STATE, "member_state", actor=NEPAL),
    # OpenInvestigation
    rejects("open/bad-id", NOTIFIED, open_investigation(investigation_id="I 1"),
            Rule.INVALID_IDENTIFIER, "investigation_id"),
    rejects("open/duplicate-id", INVESTIGATING, open_investigation(OIOS, None, "I1"),
            Rule.DUPLICATE_INVESTIGATION, "investigation_id"),
    rejects("open/oios-names-member-state", NOTIFIED, open_investigation(OIOS, "GAB"),
            Rule.INVALID_VALUE, "member_state"),
    rejects("open/oios-by-member-state", NOTIFIED, open_investigation(OIOS, None),
            Rule.FORBIDDEN_ROLE, None, actor=GABON),
    rejects("open/national-without-member-state", NOTIFIED, open_investigation(NIO, None),
            Rule.INVALID_VALUE, "member_state"),
    rejects("open/national-unknown-country", NOTIFIED, open_investigation(NIO, "XXX"),
            Rule.UNKNOWN_COUNTRY, "member_state"),
    rejects("open/national-not-notified", NOTIFIED, open_investigation(NIO, "NPL"),
            Rule.NOT_NOTIFIED, "member_state"),
    rejects("open/national-after-declining", DECLINED, open_investigation(NIO, "GAB"),
            Rule.DECLINED_TO_INVESTIGATE, "member_state"),
    rejects("open/national-after-declining-by-itself", DECLINED,
            open_investigation(InvestigatingEntity.TCC, "GAB"), Rule.DECLINED_TO_INVESTIGATE,
            "member_state", actor=GABON),
    rejects("open/national-before-notification", (*INVOLVING, Step(notify("GAB"), at=at_day(2))),
            open_investigation(NIO, "GAB"), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(1)),
    rejects("open/national-for-another-state", BOTH_NOTIFIED, open_investigation(NIO, "GAB"),
            Rule.FORBIDDEN_MEMBER_STATE, "member_state", actor=NEPAL),
    rejects("open/national-by-oversight", NOTIFIED, open_investigation(NIO, "GAB"),
            Rule.FORBIDDEN_ROLE, None, actor=OVERSIGHT),
    # ConcludeInvestigation
    rejects("conclude/unknown-investigation", INVESTIGATING, conclude("I9"),
            Rule.UNKNOWN_INVESTIGATION, "investigation_id"),
    rejects("conclude/already-concluded", SUBSTANTIATED, conclude("I1"),
            Rule.INVESTIGATION_ALREADY_CONCLUDED, "investigation_id"),
    rejects("conclude/before-opening", (*REPLIED, Step(open_investigation(), at=at_day(3))),
            conclude("I1"), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(2)),
    rejects("conclude/oios-by-member-state", UN_INVESTIGATING, conclude("I1"),
            Rule.FORBIDDEN_ROLE, None, actor=GABON),
    rejects("conclude/national-of-another-state", BOTH_INVESTIGATING, conclude("I1"),
            Rule.FORBIDDEN_MEMBER_STATE, "investigation_id", actor=NEPAL),
    # RepatriatePersonnel
    rejects("repatriate/unknown-perpetrator", INVOLVING, repatriate("P9"),
            Rule.UNKNOWN_PERPETRATOR, "perpetrator_id"),
    rejects("repatriate/civilian", INVOLVING, repatriate("P3"), Rule.NOT_UNIFORMED,
            "perpetrator_id"),
    rejects("repatriate/already-repatriated", (*INVOLVING, repatriate("P1")), repatriate("P1"),
            Rule.ALREADY_REPATRIATED, "perpetrator_id"),
    rejects("repatriate/national-of-another-state", INVOLVING, repatriate("P1"),
            Rule.FORBIDDEN_MEMBER_STATE, "perpetrator_id", actor=NEPAL),
    rejects("repatriate/by-oversight", INVOLVING, repatriate("P1"), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # ImposeSanction
    rejects("sanction/unknown-perpetrator", SUBSTANTIATED, sanction("P9"),
            Rule.UNKNOWN_PERPETRATOR, "perpetrator_id"),
    rejects("sanction/no-finding", INVESTIGATING, sanction(), Rule.NOT_SUBSTANTIATED, "case_id"),
    rejects("sanction/not-substantiated", UNSUBSTANTIATED, sanction(), Rule.NOT_SUBSTANTIATED,
            "case_id"),
    rejects("sanction/imprisonment-without-months", SUBSTANTIATED,
            sanction(kind=SanctionKind.IMPRISONMENT, months=None), Rule.MONTHS_REQUIRED,
            "months"),
    rejects("sanction/suspension-without-months", SUBSTANTIATED,
            sanction(kind=SanctionKind.SUSPENSION, months=None), Rule.MONTHS_REQUIRED, "months"),
    rejects("sanction/dismissal-with-months", SUBSTANTIATED,
            sanction(kind=SanctionKind.DISMISSAL, months=12), Rule.MONTHS_NOT_APPLICABLE,
            "months"),
    rejects("decline/after-appointing-an-investigator", (*NOTIFIED, appoint("GAB")), decline("GAB"),
            Rule.ALREADY_INVESTIGATING, "member_state"),
    rejects("sanction/zero-months", SUBSTANTIATED, sanction(months=0), Rule.INVALID_VALUE,
            "months"),
    rejects("sanction/negative-months", SUBSTANTIATED, sanction(months=-3), Rule.INVALID_VALUE,
            "months"),
    rejects("sanction/member-state-records-un-sanction", SUBSTANTIATED,
            sanction(kind=SanctionKind.BAN_FROM_FUTURE_SERVICE,
                     imposed_by=SanctionAuthority.UNITED_NATIONS, months=None),
            Rule.FORBIDDEN_MEMBER_STATE, "imposed_by", actor=GABON),
    rejects("sanction/national-of-another-state", SUBSTANTIATED, sanction("P1"),
            Rule.FORBIDDEN_MEMBER_STATE, "perpetrator_id", actor=NEPAL),
    rejects("sanction/by-oversight", SUBSTANTIATED, sanction(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # ConcludeProsecution
    rejects("prosecute/unknown-perpetrator", SUBSTANTIATED, prosecute("P9"),
            Rule.UNKNOWN_PERPETRATOR, "perpetrator_id"),
    rejects("prosecute/no-finding", INVESTIGATING, prosecute(), Rule.NOT_SUBSTANTIATED,
            "case_id"),
    rejects("prosecute/not-substantiated", UNSUBSTANTIATED, prosecute(), Rule.NOT_SUBSTANTIATED,
            "case_id"),
    rejects("prosecute/already-prosecuted", (*SUBSTANTIATED, prosecute()), prosecute(),
            Rule.ALREADY_PROSECUTED, "perpetrator_id"),
    rejects("prosecute/sentence-after-acquittal", SUBSTANTIATED,
            prosecute(outcome=ProsecutionOutcome.ACQUITTED, sentence_months=12),
            Rule.SENTENCE_WITHOUT_CONVICTION, "sentence_months"),
    rejects("prosecute/sentence-after-dismissal", SUBSTANTIATED,
            prosecute(outcome=ProsecutionOutcome.DISMISSED, sentence_months=12),
            Rule.SENTENCE_WITHOUT_CONVICTION, "sentence_months"),
    rejects("prosecute/zero-sentence", SUBSTANTIATED, prosecute(sentence_months=0),
            Rule.INVALID_VALUE, "sentence_months"),
    rejects("prosecute/national-of-another-state", SUBSTANTIATED, prosecute("P1"),
            Rule.FORBIDDEN_MEMBER_STATE, "perpetrator_id", actor=NEPAL),
    rejects("prosecute/by-oversight", SUBSTANTIATED, prosecute(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # CloseCase
    rejects("close/by-member-state", ONLY_GAB, close(), Rule.FORBIDDEN_ROLE, None, actor=GABON),
    rejects("close/already-closed", CLOSED, close(), Rule.CASE_CLOSED, "case_id"),
    # SignVoluntaryCompact
    rejects("compact/unknown-country", (), compact("XXX"), Rule.UNKNOWN_COUNTRY, "member_state"),
    rejects("compact/already-signed", SIGNED, compact("GAB"), Rule.ALREADY_SIGNED,
            "member_state"),
    rejects("compact/for-another-state", (), compact("GAB"), Rule.FORBIDDEN_MEMBER_STATE,
            "member_state", actor=NEPAL),
    rejects("compact/by-oversight", (), compact("GAB"), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    rejects("compact/on-a-case-stream", REPORTED, compact("GAB"), Rule.INVALID_VALUE, None),
    # a withdrawn case: its report was retracted
    rejects("any/withdrawn", WITHDRAWN, victim(), Rule.CASE_WITHDRAWN, "case_id"),
    rejects("any/withdrawn-for-member-state", WITHDRAWN, interim(), Rule.CASE_WITHDRAWN,
            "case_id", actor=GABON),
    rejects("report/withdrawn", WITHDRAWN, report(), Rule.CASE_WITHDRAWN, "case_id"),
    # ReportAllegation, version 2
    rejects("report/peacekeeping-without-mission", (), report(mission=None), Rule.INVALID_VALUE,
            "mission"),
    rejects("report/mission-of-another-kind", (), report(mission="BINUH"), Rule.INVALID_VALUE,
            "entity"),
    rejects("report/precision-without-date", (),
            report(incident_date=None, precision=DatePrecision.MONTH), Rule.INVALID_VALUE,
            "incident_date_precision"),
    rejects("report/unknown-precision-of-a-date", (), report(precision=DatePrecision.UNKNOWN),
            Rule.INVALID_VALUE, "incident_date_precision"),
    rejects("report/blank-entity-name", (),
            report(mission=None, entity=EntityKind.AGENCY_FUND_PROGRAMME, entity_name="  "),
            Rule.INVALID_VALUE, "entity_name"),
    rejects("report/entity-name-too-long", (),
            report(mission=None, entity=EntityKind.IMPLEMENTING_PARTNER, entity_name="N" * 101),
            Rule.INVALID_VALUE, "entity_name"),
    # OpenInvestigation by the UN entity's own investigators
    rejects("open/entity-names-member-state", NOTIFIED,
            open_investigation(InvestigatingEntity.ENTITY, "GAB"), Rule.INVALID_VALUE,
            "member_state"),
    rejects("open/entity-by-member-state", NOTIFIED,
            open_investigation(InvestigatingEntity.ENTITY, None), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    # TakeInterimAction
    rejects("interim/unknown-perpetrator", INVOLVING, interim("P9"), Rule.UNKNOWN_PERPETRATOR,
            "perpetrator_id"),
    rejects("interim/national-of-another-state", INVOLVING, interim("P1"),
            Rule.FORBIDDEN_MEMBER_STATE, "perpetrator_id", actor=NEPAL),
    rejects("interim/by-oversight", INVOLVING, interim(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    rejects("interim/after-closing", CLOSED, interim(), Rule.CASE_CLOSED, "case_id"),
    rejects("interim/before-the-report", INVOLVING, interim(), Rule.OUT_OF_ORDER, "occurred_at",
            at=T0 - timedelta(minutes=1)),
    # MakeCriminalReferral
    rejects("refer/unknown-perpetrator", SUBSTANTIATED, refer("P9"), Rule.UNKNOWN_PERPETRATOR,
            "perpetrator_id"),
    rejects("refer/no-finding", INVESTIGATING, refer(), Rule.NOT_SUBSTANTIATED, "case_id"),
    rejects("refer/not-substantiated", UNSUBSTANTIATED, refer(), Rule.NOT_SUBSTANTIATED,
            "case_id"),
    rejects("refer/finding-on-another-states-nationals", SUBSTANTIATED, refer("P2"),
            Rule.NOT_SUBSTANTIATED, "case_id"),
    rejects("refer/already-referred", REFERRED, refer("P1"), Rule.ALREADY_REFERRED,
            "perpetrator_id"),
    rejects("refer/before-the-finding", (*REPLIED, Step(open_investigation(), at=at_day(1)),
                                         Step(conclude("I1"), at=at_day(60))),
            refer(), Rule.OUT_OF_ORDER, "occurred_at", actor=GABON, at=at_day(30)),
    rejects("refer/national-of-another-state", SUBSTANTIATED, refer("P1"),
            Rule.FORBIDDEN_MEMBER_STATE, "perpetrator_id", actor=NEPAL),
    rejects("refer/by-oversight", SUBSTANTIATED, refer(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # RequestFollowUp
    rejects("ask-again/not-notified", NOTIFIED, ask_again("NPL"), Rule.NOT_NOTIFIED,
            "member_state"),
    rejects("ask-again/unknown-country", NOTIFIED, ask_again("XXX"), Rule.UNKNOWN_COUNTRY,
            "member_state"),
    rejects("ask-again/before-notification", (*INVOLVING, Step(notify("GAB"), at=at_day(2))),
            ask_again("GAB"), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(1)),
    rejects("ask-again/by-member-state", NOTIFIED, ask_again("GAB"), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    rejects("ask-again/after-closing", (*NOTIFIED, close()), ask_again("GAB"), Rule.CASE_CLOSED,
            "case_id"),
    # PublishCase
    rejects("publish/already-published", PUBLISHED, publish(), Rule.ALREADY_PUBLISHED,
            "case_id"),
    rejects("publish/blank-reference", ONLY_GAB, publish(" "), Rule.INVALID_VALUE, "reference"),
    rejects("publish/by-member-state", ONLY_GAB, publish(), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    rejects("publish/withdrawn", WITHDRAWN, publish(), Rule.CASE_WITHDRAWN, "case_id"),
    # ReopenCase
    rejects("reopen/open-case", ONLY_GAB, reopen(), Rule.CASE_NOT_CLOSED, "case_id"),
    rejects("reopen/reopened-already", REOPENED, reopen(), Rule.CASE_NOT_CLOSED, "case_id"),
    rejects("reopen/before-the-closure", (*ONLY_GAB, Step(close(), at=at_day(5))), reopen(),
            Rule.OUT_OF_ORDER, "occurred_at", at=at_day(4)),
    rejects("reopen/by-member-state", (*ONLY_GAB, close()), reopen(), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    rejects("reopen/withdrawn", WITHDRAWN, reopen(), Rule.CASE_WITHDRAWN, "case_id"),
    # FilePaternityClaim
    rejects("claim/unknown-perpetrator", INVOLVING, claim("P9"), Rule.UNKNOWN_PERPETRATOR,
            "perpetrator_id"),
    rejects("claim/bad-id", INVOLVING, claim(claim_id="C 1"), Rule.INVALID_IDENTIFIER,
            "claim_id"),
    rejects("claim/duplicate-id", CLAIMED, claim("P2", claim_id="C1"), Rule.DUPLICATE_CLAIM,
            "claim_id"),
    rejects("claim/naming-no-perpetrator-by-member-state", INVOLVING, claim(None),
            Rule.FORBIDDEN_ROLE, None, actor=GABON),
    rejects("claim/national-of-another-state", INVOLVING, claim("P1"),
            Rule.FORBIDDEN_MEMBER_STATE, "perpetrator_id", actor=NEPAL),
    rejects("claim/by-oversight", INVOLVING, claim(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # EstablishPaternity
    rejects("establish/unknown-claim", CLAIMED, establish("C9"), Rule.UNKNOWN_CLAIM, "claim_id"),
    rejects("establish/already-established", ESTABLISHED, establish(),
            Rule.PATERNITY_ALREADY_ESTABLISHED, "claim_id"),
    rejects("establish/claim-of-another-state", CLAIMED, establish(),
            Rule.FORBIDDEN_MEMBER_STATE, "claim_id", actor=NEPAL),
    rejects("establish/claim-of-no-state-by-member-state", UNNAMED_CLAIM, establish(),
            Rule.FORBIDDEN_MEMBER_STATE, "claim_id", actor=GABON),
    rejects("establish/before-the-claim", (*INVOLVING, Step(claim(), at=at_day(5))),
            establish(), Rule.OUT_OF_ORDER, "occurred_at", at=at_day(4)),
    rejects("establish/by-oversight", CLAIMED, establish(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # ArrangeChildSupport
    rejects("support/unknown-claim", ESTABLISHED, support("C9"), Rule.UNKNOWN_CLAIM,
            "claim_id"),
    rejects("support/paternity-not-established", CLAIMED, support(),
            Rule.PATERNITY_NOT_ESTABLISHED, "claim_id"),
    rejects("support/already-arranged", SUPPORTED, support(),
            Rule.CHILD_SUPPORT_ALREADY_ARRANGED, "claim_id"),
    rejects("support/before-paternity", (*CLAIMED, Step(establish(), at=at_day(5))), support(),
            Rule.OUT_OF_ORDER, "occurred_at", at=at_day(4)),
    rejects("support/claim-of-another-state", ESTABLISHED, support(),
            Rule.FORBIDDEN_MEMBER_STATE, "claim_id", actor=NEPAL),
    rejects("support/by-oversight", ESTABLISHED, support(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # ProvideVictimAssistance
    rejects("assist/unknown-victim", WITH_VICTIM, assist("V9"), Rule.UNKNOWN_VICTIM,
            "victim_id"),
    rejects("assist/no-kind", WITH_VICTIM, assist(kinds=()), Rule.INVALID_VALUE, "kinds"),
    rejects("assist/a-kind-twice", WITH_VICTIM, assist(kinds=(MEDICAL, PSYCHOSOCIAL, MEDICAL)),
            Rule.INVALID_VALUE, "kinds"),
    rejects("assist/by-member-state", WITH_VICTIM, assist(), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    # JoinCircleOfLeadership
    rejects("circle/already-joined", JOINED, circle(), Rule.ALREADY_JOINED, "member_state"),
    rejects("circle/unknown-country", (), circle("XXX"), Rule.UNKNOWN_COUNTRY, "member_state"),
    rejects("circle/for-another-state", (), circle("GAB"), Rule.FORBIDDEN_MEMBER_STATE,
            "member_state", actor=NEPAL),
    rejects("circle/by-oversight", (), circle(), Rule.FORBIDDEN_ROLE, None, actor=OVERSIGHT),
    rejects("circle/on-a-case-stream", REPORTED, circle(), Rule.INVALID_VALUE, None),
    # ContributeToTrustFund
    rejects("fund/nothing", (), contribute(amount_usd=0), Rule.INVALID_VALUE, "amount_usd"),
    rejects("fund/negative", SIGNED, contribute(amount_usd=-5), Rule.INVALID_VALUE,
            "amount_usd"),
    rejects("fund/for-another-state", (), contribute("GAB"), Rule.FORBIDDEN_MEMBER_STATE,
            "member_state", actor=NEPAL),
    rejects("fund/in-the-future", (), contribute(), Rule.FUTURE_DATE, "occurred_at",
            at=NOW + timedelta(days=2)),
    # DesignateFocalPoint
    rejects("focal-point/unknown-country", (), designate("XXX"), Rule.UNKNOWN_COUNTRY,
            "member_state"),
    rejects("focal-point/for-another-state", (), designate("GAB"), Rule.FORBIDDEN_MEMBER_STATE,
            "member_state", actor=NEPAL),
    rejects("focal-point/by-oversight", (), designate(), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    # CorrectEvent
    rejects("correct/unknown-event", INVOLVING, correct(99, P1_AS_NEPALESE), Rule.UNKNOWN_EVENT,
            "event_id"),
    rejects("correct/a-correction", CORRECTED, correct(5, P1_AS_NEPALESE),
            Rule.EVENT_NOT_CORRECTABLE, "event_id"),
    rejects("correct/a-retracted-event", (*INVOLVING, retract(P3)),
            correct(P3, AllegedPerpetratorIdentified("P3", CIVILIAN, CountryCode("FRA"),
                                                     Sex.FEMALE)),
            Rule.ALREADY_RETRACTED, "event_id"),
    rejects("correct/perpetrator-id", INVOLVING,
            correct(P1, AllegedPerpetratorIdentified("P7", MC, CountryCode("GAB"), Sex.MALE)),
            Rule.CORRECTION_CHANGES_IDENTITY, "corrected_payload"),
    rejects("correct/the-notified-state", NOTIFIED,
            correct(GAB_NOTIFIED, MemberStateNotified(CountryCode("NPL"), True)),
            Rule.CORRECTION_CHANGES_IDENTITY, "corrected_payload"),
    rejects("correct/the-state-of-a-state-stream", (contribute(),),
            correct(1, TrustFundContributionMade(CountryCode("NPL"), 250_000),
                    stream=GAB_STREAM),
            Rule.CORRECTION_CHANGES_IDENTITY, "corrected_payload"),
    rejects("correct/to-what-is-in-force", INVOLVING,
            correct(P1, AllegedPerpetratorIdentified("P1", MC, CountryCode("GAB"), Sex.MALE)),
            Rule.CORRECTION_CHANGES_NOTHING, "corrected_payload"),
    rejects("correct/back-to-what-is-in-force", CORRECTED, correct(P1, P1_AS_NEPALESE),
            Rule.CORRECTION_CHANGES_NOTHING, "corrected_payload"),
    rejects("correct/not-json", INVOLVING, correct(P1, "{not json"), Rule.INVALID_VALUE,
            "corrected_payload"),
    rejects("correct/payload-of-another-type", INVOLVING,
            correct(P1, VictimRecorded("V1", AgeGroup.ADULT, Sex.FEMALE)), Rule.INVALID_VALUE,
            "corrected_payload"),
    rejects("correct/unknown-nationality", INVOLVING,
            correct(P1, AllegedPerpetratorIdentified("P1", MC, CountryCode("XXX"), Sex.MALE)),
            Rule.UNKNOWN_COUNTRY, "corrected_payload"),
    rejects("correct/months-of-a-dismissal", GAB_SANCTIONED,
            correct(SANCTION, SanctionImposed("P1", CountryCode("GAB"),
                                              SanctionAuthority.MEMBER_STATE,
                                              SanctionKind.DISMISSAL, 24)),
            Rule.MONTHS_NOT_APPLICABLE, "corrected_payload"),
    rejects("correct/nationality-not-the-perpetrators", GAB_SANCTIONED,
            correct(SANCTION, SanctionImposed("P1", CountryCode("NPL"),
                                              SanctionAuthority.MEMBER_STATE,
                                              SanctionKind.IMPRISONMENT, 24)),
            Rule.INVALID_VALUE, "corrected_payload"),
    rejects("correct/member-state-makes-its-sanction-the-uns", GAB_SANCTIONED,
            correct(SANCTION, SanctionImposed("P1", CountryCode("GAB"),
                                              SanctionAuthority.UNITED_NATIONS,
                                              SanctionKind.IMPRISONMENT, 24)),
            Rule.FORBIDDEN_MEMBER_STATE, "corrected_payload", actor=GABON),
    rejects("correct/contribution-to-nothing", (contribute(),),
            correct(1, TrustFundContributionMade(CountryCode("GAB"), 0), stream=GAB_STREAM),
            Rule.INVALID_VALUE, "corrected_payload"),
    rejects("correct/incident-after-the-receipt", INVOLVING,
            correct(REPORT, reported(incident_date=date(2024, 1, 9))), Rule.OUT_OF_ORDER,
            "corrected_payload"),
    rejects("correct/blank-reason", INVOLVING, correct(P1, P1_AS_NEPALESE, reason="  "),
            Rule.INVALID_VALUE, "reason"),
    rejects("correct/reason-too-long", INVOLVING,
            correct(P1, P1_AS_NEPALESE, reason="x" * (REASON_LIMIT + 1)), Rule.INVALID_VALUE,
            "reason"),
    rejects("correct/instant-in-the-future", INVOLVING,
            correct(P1, P1_AS_NEPALESE, at=NOW + timedelta(days=1)), Rule.FUTURE_DATE,
            "corrected_occurred_at"),
    rejects("correct/instant-without-zone", INVOLVING,
            correct(P1, P1_AS_NEPALESE, at=datetime(2024, 1, 8, 12)),  # noqa: DTZ001
            Rule.INVALID_VALUE, "corrected_occurred_at"),
    rejects("correct/instant-before-the-receipt", INVOLVING,
            correct(P1, P1_AS_NEPALESE, at=T0 - timedelta(hours=1)), Rule.OUT_OF_ORDER,
            "corrected_occurred_at"),
    rejects("correct/receipt-after-the-first-event", INVOLVING,
            correct(REPORT, reported(), at=T0 + timedelta(hours=2)), Rule.OUT_OF_ORDER,
            "corrected_occurred_at"),
    rejects("correct/officers-event-by-member-state", NOTIFIED,
            correct(GAB_NOTIFIED, MemberStateNotified(CountryCode("GAB"), False)),
            Rule.FORBIDDEN_MEMBER_STATE, "event_id", actor=GABON),
    rejects("correct/case-of-other-nationals", GAB_SANCTIONED,
            correct(SANCTION, SanctionImposed("P1", CountryCode("GAB"),
                                              SanctionAuthority.MEMBER_STATE,
                                              SanctionKind.IMPRISONMENT, 12)),
            Rule.FORBIDDEN_MEMBER_STATE, "stream", actor=PAKISTAN),
    rejects("correct/stream-of-another-state", (Step(contribute(), GABON),),
            correct(1, TrustFundContributionMade(CountryCode("GAB"), 1), stream=GAB_STREAM),
            Rule.FORBIDDEN_MEMBER_STATE, "stream", actor=NEPAL),
    rejects("correct/by-oversight", INVOLVING, correct(P1, P1_AS_NEPALESE), Rule.FORBIDDEN_ROLE,
            None, actor=OVERSIGHT),
    # RetractEvent
    rejects("retract/unknown-event", INVOLVING, retract(99), Rule.UNKNOWN_EVENT, "event_id"),
    rejects("retract/a-retraction", (*INVOLVING, retract(P3)), retract(5),
            Rule.EVENT_NOT_CORRECTABLE, "event_id"),
    rejects("retract/already-retracted", (*INVOLVING, retract(P3)), retract(P3),
            Rule.ALREADY_RETRACTED, "event_id"),
    rejects("retract/perpetrator-of-a-repatriation", (*INVOLVING, repatriate("P1")),
            retract(P1), Rule.EVENT_HAS_DEPENDENTS, "event_id"),
    rejects("retract/notification-that-was-answered", REPLIED, retract(GAB_NOTIFIED),
            Rule.EVENT_HAS_DEPENDENTS, "event_id"),
    rejects("retract/opening-of-a-concluded-investigation", SUBSTANTIATED, retract(I1_OPENED),
            Rule.EVENT_HAS_DEPENDENTS, "event_id"),
    rejects("retract/claim-with-paternity-established", ESTABLISHED, retract(5),
            Rule.EVENT_HAS_DEPENDENTS, "event_id"),
    rejects("retract/blank-reason", INVOLVING, retract(P3, reason=""), Rule.INVALID_VALUE,
            "reason"),
    rejects("retract/officers-event-by-member-state", NOTIFIED, retract(P1),
            Rule.FORBIDDEN_MEMBER_STATE, "event_id", actor=GABON),
    rejects("retract/case-of-other-nationals", GAB_SANCTIONED, retract(SANCTION),
            Rule.FORBIDDEN_MEMBER_STATE, "stream", actor=PAKISTAN),
    rejects("retract/by-oversight", INVOLVING, retract(P3), Rule.FORBIDDEN_ROLE, None,
            actor=OVERSIGHT),
    rejects("narrative/plain-text", REPORTED, narrate("what happened, in clear"),
            Rule.TEXT_NOT_SEALED, "text"),
    rejects("narrative/unknown-version", REPORTED, narrate("enc:v9:00:11:22"),
            Rule.TEXT_NOT_SEALED, "text"),
    rejects("narrative/another-key", NARRATED, narrate(key=OTHER_CASE_KEY),
            Rule.TEXT_KEY_MISMATCH, "text"),
    rejects("narrative/after-erasure", ERASED, narrate(), Rule.VICTIM_DATA_ERASED, "case_id"),
    rejects("narrative/by-member-state", ONLY_GAB, narrate(), Rule.FORBIDDEN_ROLE, None,
            actor=GABON),
    rejects("note/duplicate-id", (*NARRATED, note()), note("N1"), Rule.DUPLICATE_NOTE,
            "note_id"),
    rejects("note/bad-id", REPORTED, note("N 1"), Rule.INVALID_IDENTIFIER, "note_id"),
    rejects("note/another-key", NARRATED, note(key=OTHER_CASE_KEY), Rule.TEXT_KEY_MISMATCH,
            "text"),
    rejects("note/after-erasure", ERASED, note(), Rule.VICTIM_DATA_ERASED, "case_id"),
    rejects("erase/twice", ERASED, erase(), Rule.VICTIM_DATA_ERASED, "case_id"),
    rejects("erase/unreported-case", (), erase(), Rule.CASE_NOT_FOUND, "case_id"),
    rejects("erase/by-member-state", ONLY_GAB, erase(), Rule.FORBIDDEN_ROLE, None, actor=GABON),
    rejects("correct/narrative", NARRATED, correct(2, payload(NarrativeRecorded(sealed("x")))),
            Rule.EVENT_NOT_CORRECTABLE, "event_id"),
    rejects("retract/erasure", ERASED, retract(3), Rule.EVENT_NOT_CORRECTABLE, "event_id"),
    rejects("register/by-officer", (), register(), Rule.FORBIDDEN_ROLE, None),
    rejects("register/for-another-state", (), register("NPL"), Rule.FORBIDDEN_MEMBER_STATE,
            "member_state", actor=GABON),
    rejects("register/not-a-key", (), register(key="not a key"), Rule.INVALID_VALUE,
            "public_key", actor=GABON),
    rejects("register/short-key", (), register(key=b64(b"\x01" * 31)), Rule.INVALID_VALUE,
            "public_key", actor=GABON),
    rejects("register/again", KEYED, register(), Rule.SIGNING_KEY_ALREADY_REGISTERED,
            "public_key", actor=GABON, signer=BY_GABON),
    rejects("register/second-key-unsigned", KEYED, register(key=public_key(OTHER_SIGNER)),
            Rule.SIGNATURE_REQUIRED, "signature", actor=GABON),
    rejects("revoke/unknown-key", (), revoke("0123456789abcdef"), Rule.UNKNOWN_SIGNING_KEY,
            "key_id", actor=GABON),
    rejects("revoke/already-revoked", REVOKED_AND_REKEYED, revoke(), Rule.SIGNING_KEY_REVOKED,
            "key_id", actor=GABON, signer=signed_by(OTHER_SIGNER)),
    rejects("revoke/by-officer", KEYED, revoke(), Rule.FORBIDDEN_ROLE, None),
    rejects("signed/commitment-unsigned", KEYED, compact(), Rule.SIGNATURE_REQUIRED,
            "signature", actor=GABON),
    rejects("signed/commitment-by-unknown-key", KEYED, compact(), Rule.UNKNOWN_SIGNING_KEY,
            "signature", actor=GABON, signer=signed_by(OTHER_SIGNER)),
    rejects("signed/commitment-by-revoked-key", REVOKED_AND_REKEYED, compact(),
            Rule.SIGNING_KEY_REVOKED, "signature", actor=GABON, signer=BY_GABON),
    rejects("signed/forged", KEYED, compact(), Rule.INVALID_SIGNATURE, "signature", actor=GABON,
            signer=forged()),
    rejects("signed/correction-unsigned", (*KEYED, Step(contribute(), GABON, signer=BY_GABON)),
            retract(2, stream=GAB_STREAM), Rule.SIGNATURE_REQUIRED, "signature", actor=GABON),
]  # fmt: skip


@pytest.mark.parametrize("row", REJECTIONS)
def test_a_rejected_command_names_its_rule_and_field_and_changes_nothing(row: Rejected) -> None:
    state = arrange(row.steps, row.command)
    before = deepcopy(state)

    with then_rejected(row.code, row.field):
        when(state, row.command, row.actor, row.at, row.signer)

    assert state == before
    assert state.head == before.head


def test_the_rejection_table_covers_every_command_and_every_rule_the_decider_uses() -> None:
    rows = [p.values[0] for p in REJECTIONS]
    commands = {type(row.command).__name__ for row in rows if isinstance(row, Rejected)}
    codes = {row.code for row in rows if isinstance(row, Rejected)}

    assert commands == set(COMMAND_TYPES)
    assert codes == set(Rule)


def test_after_a_rejection_the_next_accepted_event_continues_the_chain_at_the_same_head() -> None:
    state, envelopes = record(*INVOLVING)
    with then_rejected(Rule.STATE_NOT_INVOLVED, "member_state"):
        when(state, notify("PAK"))

    command = envelope(notify("GAB"))
    [(sealed, raw)] = seal(state.head, command, decide(state, command, NOW), NOW)

    assert sealed.sequence == len(envelopes) + 1
    assert verify_link(raw, envelopes[-1].head) == sealed


# --- idempotency ----------------------------------------------------------------------


def test_a_command_id_already_used_in_the_stream_is_a_duplicate() -> None:
    state = given(*REPORTED)
    command = envelope(identify(), command_id="cmd-identify-once")
    for sealed, _raw in seal(state.head, command, decide(state, command, NOW), NOW):
        state = evolve(state, sealed)

    assert is_duplicate(state, command)
    assert is_duplicate(state, envelope(victim(), command_id="cmd-identify-once"))
    assert not is_duplicate(state, envelope(identify(), command_id="cmd-identify-twice"))


def test_a_rejected_command_leaves_no_trace_for_is_duplicate() -> None:
    state = given(*REPORTED)
    command = envelope(identify("XXX"), command_id="cmd-rejected")
    with then_rejected(Rule.UNKNOWN_COUNTRY, "nationality"):
        decide(state, command, NOW)

    assert not is_duplicate(state, command)


def test_a_command_id_used_on_a_member_state_stream_is_a_duplicate() -> None:
    state = nothing(state_stream("GAB"))
    command = envelope(compact("GAB"), command_id="cmd-compact")
    for sealed, _raw in seal(state.head, command, decide(state, command, NOW), NOW):
        state = evolve(state, sealed)

    assert is_duplicate(state, command)


# --- ReportAllegation ---------------------------------------------------------------


def test_reporting_an_allegation_opens_the_case_at_its_receipt() -> None:
    state = nothing(case_stream(CASE))

    events = when(state, report(), at=T0)

    then_events(events, reported(precision=DatePrecision.DAY))
    opened = case(given(report()))
    assert (opened.case_id, opened.status, opened.received_at) == (CASE, "open", T0)
    assert opened.head.sequence == 1


@pytest.mark.parametrize(
    ("mission", "incident_date", "precision"),
    [
        pytest.param("MINUSCA", None, DatePrecision.UNKNOWN, id="incident-date-unknown"),
        pytest.param("MONUSCO", date(2024, 1, 8), DatePrecision.DAY,
                     id="incident-on-the-day-of-receipt"),
        pytest.param("UNMISS", date(2015, 3, 1), DatePrecision.DAY, id="incident-years-old"),
    ],
)  # fmt: skip
def test_a_report_may_leave_the_incident_date_unknown_or_old(
    mission: str, incident_date: date | None, precision: DatePrecision
) -> None:
    events = when(nothing(case_stream(CASE)), report(mission=mission, incident_date=incident_date),
                  at=T0)  # fmt: skip

    then_events(events, reported(mission, incident_date, precision=precision))


@pytest.mark.parametrize(
    ("incident_date", "precision"),
    [
        pytest.param(date(2023, 11, 1), DatePrecision.MONTH, id="month-known"),
        pytest.param(date(2022, 1, 1), DatePrecision.YEAR, id="year-known"),
        pytest.param(None, DatePrecision.UNKNOWN, id="nothing-known"),
    ],
)
def test_a_report_says_how_much_of_the_incident_date_is_known(
    incident_date: date | None, precision: DatePrecision
) -> None:
    command = report(incident_date=incident_date, precision=precision)

    then_events(
        when(nothing(CASE_STREAM), command, at=T0),
        reported(incident_date=incident_date, precision=precision),
    )


@pytest.mark.parametrize(
    ("entity", "mission", "entity_name"),
    [
        pytest.param(EntityKind.SPECIAL_POLITICAL, "BINUH", None, id="special-political-mission"),
        pytest.param(EntityKind.AGENCY_FUND_PROGRAMME, None, "UNICEF", id="agency-anywhere"),
        pytest.param(EntityKind.IMPLEMENTING_PARTNER, "MINUSCA", "Partner NGO",
                     id="partner-in-a-mission-area"),
        pytest.param(EntityKind.NON_UN_FORCE, None, None, id="non-un-force"),
    ],
)  # fmt: skip
def test_an_allegation_outside_peacekeeping_names_its_entity(
    entity: EntityKind, mission: str | None, entity_name: str | None
) -> None:
    command = report(mission=mission, entity=entity, entity_name=entity_name)

    then_events(
        when(nothing(CASE_STREAM), command, at=T0),
        reported(mission, entity=entity, entity_name=entity_name),
    )


def test_a_report_may_be_dated_up_to_the_clock_skew_ahead_of_now() -> None:
    events = when(nothing(case_stream(CASE)), report(), at=NOW + CLOCK_SKEW)

    assert [type(e) for e in events] == [AllegationReported]


# --- IdentifyAllegedPerpetrator -----------------------------------------------------


def test_perpetrators_get_p1_p2_p3_in_turn() -> None:
    state = case(given(*INVOLVING))

    assert list(state.perpetrators) == ["P1", "P2", "P3"]
    then_events(
        when(state, identify("PAK", PersonnelCategory.POLICE_UNPOL, sex=Sex.FEMALE)),
        AllegedPerpetratorIdentified(
            "P4", PersonnelCategory.POLICE_UNPOL, CountryCode("PAK"), Sex.FEMALE
        ),
    )


def test_a_perpetrator_may_be_given_an_id_and_auto_ids_never_collide_with_it() -> None:
    state = given(*REPORTED, identify(perpetrator_id="P2"), identify("NPL"), identify("BGD"))

    assert list(case(state).perpetrators) == ["P2", "P1", "P3"]
    then_events(
        when(state, identify("BGD", perpetrator_id="contingent-7.a")),
        AllegedPerpetratorIdentified("contingent-7.a", MC, CountryCode("BGD"), Sex.MALE),
    )


def test_a_perpetrator_of_unknown_sex_is_recorded_as_such() -> None:
    command = IdentifyAllegedPerpetrator(CaseId(CASE), MC, CountryCode("GAB"))

    then_events(
        when(given(*REPORTED), command),
        AllegedPerpetratorIdentified("P1", MC, CountryCode("GAB"), Sex.UNKNOWN),
    )


# --- RecordVictim -----------------------------------------------------------------------


def test_victims_are_counted_v1_v2_by_age_group_and_sex() -> None:
    state = given(*REPORTED, victim())

    then_events(when(state, victim(age_group=AgeGroup.ADULT)),
                VictimRecorded("V2", AgeGroup.ADULT, Sex.FEMALE))  # fmt: skip
    then_events(
        when(state, victim("V7", AgeGroup.UNKNOWN, Sex.UNKNOWN)),
        VictimRecorded("V7", AgeGroup.UNKNOWN, Sex.UNKNOWN),
    )


@pytest.mark.parametrize("sent", ["initials-AB", "V-unknown", "v1", "V0", "V1234567"])
def test_a_victim_id_other_than_a_number_is_refused_without_repeating_it(sent: str) -> None:
    state = given(*REPORTED, victim())

    for command in (victim(sent), assist(sent)):
        with pytest.raises(Rejection) as raised:
            when(state, command)
        assert raised.value.field == "victim_id"
        assert sent not in raised.value.message


# --- NotifyMemberState ------------------------------------------------------------------


@pytest.mark.parametrize(
    "category",
    [
        pytest.param(PersonnelCategory.MILITARY_MC, id="contingent-member"),
        pytest.param(PersonnelCategory.MILITARY_MO, id="military-observer"),
        pytest.param(PersonnelCategory.POLICE_UNPOL, id="individual-police"),
        pytest.param(PersonnelCategory.POLICE_FPU, id="formed-police-unit"),
    ],
)
def test_a_state_whose_uniformed_national_is_alleged_is_notified(
    category: PersonnelCategory,
) -> None:
    state = given(*REPORTED, identify("BGD", category))

    then_events(when(state, notify("BGD")), MemberStateNotified(CountryCode("BGD"), True))


@pytest.mark.parametrize(
    "category",
    [
        pytest.param(PersonnelCategory.CIVILIAN_INT, id="international-staff"),
        pytest.param(PersonnelCategory.CIVILIAN_NS, id="national-staff"),
        pytest.param(PersonnelCategory.CIVILIAN_UNV, id="volunteer"),
    ],
)
def test_only_uniformed_nationals_make_a_state_involved(category: PersonnelCategory) -> None:
    state = given(*REPORTED, identify("BGD", category))

    with then_rejected(Rule.STATE_NOT_INVOLVED, "member_state"):
        when(state, notify("BGD"))


def test_a_notification_may_ask_for_no_investigator_and_opens_a_follow_up_per_state() -> None:
    state = case(given(*NOTIFIED, Step(notify("NPL", nio_requested=False), at=at_day(1))))

    assert state.follow_ups == {
        "GAB": FollowUp(CountryCode("GAB"), T0 + timedelta(hours=4)),
        "NPL": FollowUp(CountryCode("NPL"), at_day(1)),
    }
    then_events(
        when(given(*INVOLVING), notify("NPL", nio_requested=False)),
        MemberStateNotified(CountryCode("NPL"), False),
    )


# --- replies ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-state-itself")])  # fmt: skip
def test_the_notified_state_replies_it_will_investigate(actor: Actor) -> None:
    then_events(
        when(given(*NOTIFIED), reply("GAB"), actor),
        MemberStateRepliedIntentToInvestigate(CountryCode("GAB")),
    )
    state = case(given(*NOTIFIED, Step(reply("GAB"), actor, at_day(3))))
    assert state.follow_ups[CountryCode("GAB")].reply == "intent"
    assert state.follow_ups[CountryCode("GAB")].replied_at == at_day(3)


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-state-itself")])  # fmt: skip
def test_the_notified_state_declines_to_investigate(actor: Actor) -> None:
    then_events(
        when(given(*NOTIFIED), decline("GAB"), actor),
        MemberStateDeclinedToInvestigate(CountryCode("GAB")),
    )
    assert case(given(*DECLINED)).follow_ups[CountryCode("GAB")].reply == "declined"


def test_a_reply_at_the_very_instant_of_notification_is_in_order() -> None:
    notified_at = at_day(2)
    state = given(*INVOLVING, Step(notify("GAB"), at=notified_at))

    then_events(
        when(state, reply("GAB"), GABON, at=notified_at),
        MemberStateRepliedIntentToInvestigate(CountryCode("GAB")),
    )


def test_a_state_replies_only_for_itself_even_when_its_nationals_are_involved() -> None:
    state = given(*BOTH_NOTIFIED)

    then_events(when(state, reply("NPL"), NEPAL),
                MemberStateRepliedIntentToInvestigate(CountryCode("NPL")))  # fmt: skip
    with then_rejected(Rule.FORBIDDEN_MEMBER_STATE, "member_state"):
        when(state, reply("GAB"), NEPAL)


# --- AppointNationalInvestigationOfficer ------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "actor"),
    [
        pytest.param(NOTIFIED, GABON, id="before-replying"),
        pytest.param(REPLIED, GABON, id="after-intent"),
        pytest.param(REPLIED, OFFICER, id="recorded-by-officer"),
    ],
)
def test_the_notified_state_appoints_a_national_investigation_officer(
    steps: Steps, actor: Actor
) -> None:
    then_events(
        when(given(*steps), appoint("GAB"), actor),
        NationalInvestigationOfficerAppointed(CountryCode("GAB")),
    )


def test_an_appointment_is_remembered_without_touching_the_reply() -> None:
    state = case(given(*REPLIED, Step(appoint("GAB"), at=at_day(5))))

    follow_up = state.follow_ups[CountryCode("GAB")]
    assert (follow_up.reply, follow_up.nio_appointed_at) == ("intent", at_day(5))


# --- OpenInvestigation ------------------------------------------------------------------


def test_oios_opens_a_un_investigation_without_any_notification() -> None:
    then_events(
        when(given(*INVOLVING), open_investigation(OIOS, None, urgent=True)),
        InvestigationOpened("I1", OIOS, None, True),
    )


@pytest.mark.parametrize(
    ("entity", "actor"),
    [
        pytest.param(InvestigatingEntity.NIO, GABON, id="nio-by-the-state"),
        pytest.param(InvestigatingEntity.TCC, GABON, id="tcc-by-the-state"),
        pytest.param(InvestigatingEntity.PCC, OFFICER, id="pcc-recorded-by-officer"),
    ],
)
def test_the_notified_state_opens_a_national_investigation(
    entity: InvestigatingEntity, actor: Actor
) -> None:
    then_events(
        when(given(*REPLIED), open_investigation(entity, "GAB"), actor),
        InvestigationOpened("I1", entity, CountryCode("GAB"), False),
    )


def test_the_un_entitys_own_investigators_investigate_like_oios() -> None:
    entity = InvestigatingEntity.ENTITY
    state = case(given(*INVOLVING, open_investigation(entity, None), conclude("I1")))

    then_events(when(given(*INVOLVING), open_investigation(entity, None)),
                InvestigationOpened("I1", entity, None, False))  # fmt: skip
    assert state.substantiated_for(CountryCode("NPL")) is not None
    with then_rejected(Rule.FORBIDDEN_ROLE, None):
        when(given(*INVOLVING, open_investigation(entity, None)), conclude("I1"), GABON)


def test_investigation_ids_continue_i1_i2_and_may_be_given() -> None:
    state = given(*INVESTIGATING)

    then_events(when(state, open_investigation(OIOS, None)),
                InvestigationOpened("I2", OIOS, None, False))  # fmt: skip
    then_events(
        when(state, open_investigation(OIOS, None, investigation_id="OIOS-0042")),
        InvestigationOpened("OIOS-0042", OIOS, None, False),
    )


# --- ConcludeInvestigation --------------------------------------------------------------


def test_a_concluded_investigation_counts_the_days_it_took() -> None:
    opened, concluded = datetime(2024, 1, 10, 17, tzinfo=UTC), datetime(2024, 3, 10, 8, tzinfo=UTC)
    state = given(*REPLIED, Step(open_investigation(urgent=True), at=opened))

    command = conclude("I1", Finding.SUBSTANTIATED, victims_interviewed=False)
    events = when(state, command, GABON, at=concluded)

    then_events(
        events,
        InvestigationConcluded(
            "I1", NIO, CountryCode("GAB"), Finding.SUBSTANTIATED, False, days_taken=60
        ),
    )


def test_an_investigation_concluded_on_the_day_it_opened_took_zero_days() -> None:
    opened = datetime(2024, 2, 1, 8, tzinfo=UTC)
    state = given(*INVOLVING, Step(open_investigation(OIOS, None), at=opened))

    events = when(state, conclude("I1", Finding.NOT_SUBSTANTIATED), at=opened)

    then_events(
        events, InvestigationConcluded("I1", OIOS, None, Finding.NOT_SUBSTANTIATED, True, 0)
    )


def test_the_un_concludes_its_own_investigation_and_a_state_its_own() -> None:
    state = given(*BOTH_INVESTIGATING, open_investigation(NIO, "NPL"))  # I1 Gabon, I2 Nepal

    assert [e.member_state for e in when(state, conclude("I2"), NEPAL)
            if isinstance(e, InvestigationConcluded)] == ["NPL"]  # fmt: skip
    assert [type(e) for e in when(given(*UN_INVESTIGATING), conclude("I1"))] == [
        InvestigationConcluded
    ]


def test_a_national_finding_bears_on_that_states_nationals_only() -> None:
    assert case(given(*INVESTIGATING)).substantiated_for(CountryCode("GAB")) is None
    assert case(given(*UNSUBSTANTIATED)).substantiated_for(CountryCode("GAB")) is None
    found = case(given(*SUBSTANTIATED))
    assert found.substantiated_for(CountryCode("GAB")) == T0 + timedelta(hours=7)
    assert found.substantiated_for(CountryCode("NPL")) is None


def test_a_un_finding_bears_on_every_national_in_the_case() -> None:
    found = case(given(*UN_SUBSTANTIATED))

    assert found.substantiated_for(CountryCode("GAB")) is not None
    assert found.substantiated_for(CountryCode("NPL")) is not None


def test_a_substantiated_finding_is_kept_on_its_investigation() -> None:
    concluded = case(given(*SUBSTANTIATED)).investigations["I1"]

    assert concluded.finding is Finding.SUBSTANTIATED
    assert concluded.concluded_at == T0 + timedelta(hours=7)


# --- RepatriatePersonnel ----------------------------------------------------------------


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-state-itself")])  # fmt: skip
def test_uniformed_personnel_are_repatriated_with_their_state_copied(actor: Actor) -> None:
    then_events(
        when(given(*INVOLVING), repatriate("P1", disciplinary=False), actor),
        PersonnelRepatriated("P1", CountryCode("GAB"), False),
    )


def test_repatriation_needs_no_finding_and_is_remembered_per_perpetrator() -> None:
    state = given(*INVOLVING, repatriate("P1"))

    assert case(state).repatriated == {"P1"}
    then_events(when(state, repatriate("P2"), NEPAL),
                PersonnelRepatriated("P2", CountryCode("NPL"), True))  # fmt: skip


# --- ImposeSanction ---------------------------------------------------------------------


def test_the_state_imposes_a_sanction_on_its_national_after_a_substantiated_finding() -> None:
    then_events(
        when(given(*SUBSTANTIATED), sanction("P1", SanctionKind.IMPRISONMENT, months=24), GABON),
        SanctionImposed(
            "P1", CountryCode("GAB"), SanctionAuthority.MEMBER_STATE, SanctionKind.IMPRISONMENT, 24
        ),
    )


@pytest.mark.parametrize(
    ("kind", "imposed_by", "months"),
    [
        pytest.param(SanctionKind.BAN_FROM_FUTURE_SERVICE, SanctionAuthority.UNITED_NATIONS,
                     None, id="un-ban"),
        pytest.param(SanctionKind.DISMISSAL, SanctionAuthority.MEMBER_STATE, None,
                     id="dismissal-needs-no-months"),
        pytest.param(SanctionKind.SUSPENSION, SanctionAuthority.MEMBER_STATE, 6,
                     id="suspension-with-months"),
    ],
)  # fmt: skip
def test_an_officer_records_sanctions_of_either_authority(
    kind: SanctionKind, imposed_by: SanctionAuthority, months: int | None
) -> None:
    then_events(
        when(given(*UN_SUBSTANTIATED), sanction("P2", kind, imposed_by, months)),
        SanctionImposed("P2", CountryCode("NPL"), imposed_by, kind, months),
    )


# --- ConcludeProsecution ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "sentence_months"),
    [
        pytest.param(ProsecutionOutcome.CONVICTED, 36, id="convicted-with-sentence"),
        pytest.param(ProsecutionOutcome.CONVICTED, None, id="convicted-sentence-unknown"),
        pytest.param(ProsecutionOutcome.ACQUITTED, None, id="acquitted"),
        pytest.param(ProsecutionOutcome.DISMISSED, None, id="dismissed"),
    ],
)
def test_the_state_concludes_the_prosecution_of_its_national(
    outcome: ProsecutionOutcome, sentence_months: int | None
) -> None:
    then_events(
        when(given(*SUBSTANTIATED), prosecute("P1", outcome, sentence_months), GABON),
        ProsecutionConcluded("P1", CountryCode("GAB"), outcome, sentence_months),
    )


def test_a_prosecution_is_concluded_once_per_perpetrator() -> None:
    state = given(*UN_SUBSTANTIATED, prosecute("P1"))

    assert case(state).prosecuted == {"P1"}
    then_events(
        when(state, prosecute("P2", ProsecutionOutcome.ACQUITTED, None)),
        ProsecutionConcluded("P2", CountryCode("NPL"), ProsecutionOutcome.ACQUITTED, None),
    )


def test_a_prosecution_outcome_may_not_precede_the_substantiated_finding_in_time() -> None:
    state = given(*REPLIED, Step(open_investigation(), at=at_day(1)),
                  Step(conclude("I1"), at=at_day(60)))  # fmt: skip

    with then_rejected(Rule.OUT_OF_ORDER, "occurred_at"):
        when(state, prosecute("P1"), GABON, at=at_day(30))


def test_a_sanction_may_not_precede_the_substantiated_finding_in_time() -> None:
    state = given(*REPLIED, Step(open_investigation(), at=at_day(1)),
                  Step(conclude("I1"), at=at_day(60)))  # fmt: skip

    with then_rejected(Rule.OUT_OF_ORDER, "occurred_at"):
        when(state, sanction("P1"), GABON, at=at_day(30))


def test_a_prosecution_may_rely_on_a_referral_once_the_finding_is_corrected_away() -> None:
    not_substantiated = InvestigationConcluded(
        "I1", NIO, CountryCode("GAB"), Finding.NOT_SUBSTANTIATED, True, 0
    )
    state = given(*SUBSTANTIATED, Step(refer("P1"), at=at_day(10)),
                  correct(I1_CONCLUDED, not_substantiated))  # fmt: skip

    assert case(state).substantiated_for(CountryCode("GAB")) is None
    then_events(
        when(state, prosecute("P1"), GABON, at=at_day(11)),
        ProsecutionConcluded("P1", CountryCode("GAB"), ProsecutionOutcome.CONVICTED, 36),
    )
    with then_rejected(Rule.OUT_OF_ORDER, "occurred_at"):
        when(state, prosecute("P1"), GABON, at=at_day(9))


def test_a_prosecution_follows_the_earlier_of_the_referral_and_the_finding() -> None:
    state = given(
        *REPLIED,
        Step(open_investigation(), at=at_day(1)),
        Step(conclude("I1"), at=at_day(20)),
        Step(refer("P1"), at=at_day(40)),
    )

    then_events(
        when(state, prosecute("P1", ProsecutionOutcome.DISMISSED, None), at=at_day(30)),
        ProsecutionConcluded("P1", CountryCode("GAB"), ProsecutionOutcome.DISMISSED, None),
    )


# --- TakeInterimAction ------------------------------------------------------------------


@pytest.mark.parametrize("action", [pytest.param(a, id=a.value) for a in InterimAction])
def test_an_interim_action_is_taken_on_a_perpetrator_at_any_time_after_the_report(
    action: InterimAction,
) -> None:
    then_events(
        when(given(*INVOLVING), interim("P3", action), FRANCE),
        InterimActionTaken("P3", CountryCode("FRA"), action),
    )


def test_interim_actions_may_be_taken_again_and_after_a_finding() -> None:
    state = given(*SUBSTANTIATED, interim("P1"), interim("P1", InterimAction.REASSIGNED))

    then_events(
        when(state, interim("P1"), GABON),
        InterimActionTaken("P1", CountryCode("GAB"), InterimAction.PAYMENTS_SUSPENDED),
    )


# --- MakeCriminalReferral ---------------------------------------------------------------


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-state-itself")])  # fmt: skip
def test_a_substantiated_case_is_referred_to_the_perpetrators_authorities(actor: Actor) -> None:
    then_events(
        when(given(*SUBSTANTIATED), refer("P1"), actor),
        CriminalReferralMade("P1", CountryCode("GAB")),
    )
    assert case(given(*SUBSTANTIATED, Step(refer("P1"), at=at_day(3)))).referred == {
        "P1": at_day(3)
    }


def test_a_un_finding_lets_every_national_be_referred() -> None:
    state = given(*UN_SUBSTANTIATED, refer("P1"))

    then_events(when(state, refer("P2"), NEPAL), CriminalReferralMade("P2", CountryCode("NPL")))


# --- RequestFollowUp --------------------------------------------------------------------


def test_the_un_asks_a_notified_state_again_as_often_as_it_must() -> None:
    state = given(*NOTIFIED, ask_again("GAB"), ask_again("GAB"))

    then_events(when(state, ask_again("GAB")), FollowUpRequested(CountryCode("GAB")))
    then_events(when(given(*REPLIED), ask_again("GAB")), FollowUpRequested(CountryCode("GAB")))


# --- PublishCase ------------------------------------------------------------------------


@pytest.mark.parametrize("reference", [pytest.param("MINUSCA-2024-001", id="with-reference"),
                                       pytest.param(None, id="without-reference")])  # fmt: skip
def test_an_officer_publishes_a_case_once(reference: str | None) -> None:
    then_events(when(given(*ONLY_GAB), publish(reference)), CasePublished(reference))
    published = case(given(*ONLY_GAB, Step(publish(reference), at=at_day(2))))
    assert published.published_at == at_day(2)


def test_a_retracted_publication_may_be_made_again() -> None:
    state = given(*PUBLISHED, retract(3))

    assert case(state).published_at is None
    then_events(when(state, publish("MINUSCA-2024-002")), CasePublished("MINUSCA-2024-002"))


# --- FilePaternityClaim, EstablishPaternity, ArrangeChildSupport ------------------------


def test_claims_get_c1_c2_and_name_the_perpetrators_state() -> None:
    state = given(*CLAIMED)

    assert case(state).claims["C1"] == PaternityClaim(
        "C1", "P1", CountryCode("GAB"), T0 + timedelta(hours=4)
    )
    then_events(when(state, claim("P2"), NEPAL),
                PaternityClaimFiled("C2", "P2", CountryCode("NPL")))  # fmt: skip
    then_events(when(state, claim(None)), PaternityClaimFiled("C2", None, None))
    then_events(
        when(state, claim("P1", claim_id="PC-0042"), GABON),
        PaternityClaimFiled("PC-0042", "P1", CountryCode("GAB")),
    )


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-claims-state")])  # fmt: skip
def test_paternity_is_established_then_child_support_arranged(actor: Actor) -> None:
    then_events(when(given(*CLAIMED), establish("C1"), actor), PaternityEstablished("C1"))
    then_events(when(given(*ESTABLISHED), support("C1"), actor), ChildSupportArranged("C1"))

    supported = case(given(*CLAIMED, Step(establish(), at=at_day(3)),
                           Step(support(), at=at_day(9))))  # fmt: skip
    claimed = supported.claims["C1"]
    assert (claimed.established_at, claimed.support_arranged_at) == (at_day(3), at_day(9))


def test_an_officer_follows_up_a_claim_that_names_no_perpetrator() -> None:
    state = given(*UNNAMED_CLAIM, establish())

    then_events(when(state, support()), ChildSupportArranged("C1"))


# --- ProvideVictimAssistance ------------------------------------------------------------


def test_a_victim_is_assisted_in_kinds_as_often_as_needed() -> None:
    state = given(*WITH_VICTIM, assist())

    then_events(
        when(state, assist("V1", (AssistanceKind.LEGAL,))),
        VictimAssistanceProvided("V1", (AssistanceKind.LEGAL,)),
    )


# --- CloseCase --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [pytest.param(r, id=r.value) for r in ClosureReason])
def test_an_officer_closes_a_case(reason: ClosureReason) -> None:
    then_events(when(given(*REPORTED), close(reason)), CaseClosed(reason))
    assert case(given(*REPORTED, close(reason))).status == "closed"


@pytest.mark.parametrize("reason", [pytest.param(r, id=r.value) for r in ReopenReason])
def test_an_officer_reopens_a_closed_case_which_then_takes_commands_again(
    reason: ReopenReason,
) -> None:
    then_events(when(given(*CLOSED), reopen(reason)), CaseReopened(reason))
    state = case(given(*CLOSED, reopen(reason)))

    assert (state.status, state.closed_at) == ("open", None)
    then_events(when(state, refer("P1"), GABON), CriminalReferralMade("P1", CountryCode("GAB")))
    then_events(when(state, close()), CaseClosed(ClosureReason.ACTION_COMPLETED))


def test_a_closed_case_is_still_published_corrected_and_retracted() -> None:
    state = given(*CLOSED)

    then_events(when(state, publish(None)), CasePublished(None))
    assert [type(e) for e in when(state, correct(P2, identified("P2", "BGD", FPU)))] == [
        EventCorrected
    ]
    reopened = case(given(*CLOSED, retract(CLOSURE)))
    assert (reopened.status, reopened.closed_at) == ("open", None)


# Commands an officer may submit on the state their steps build, and whether Gabon, whose
# national P1 is, may submit them too. Every state but the first and last involves Gabon.
ACCEPTABLE = [
    pytest.param((), report(), False, id="ReportAllegation"),
    pytest.param(ONLY_GAB, identify(), False, id="IdentifyAllegedPerpetrator"),
    pytest.param(ONLY_GAB, victim(), False, id="RecordVictim"),
    pytest.param(INVOLVING, notify("GAB"), False, id="NotifyMemberState"),
    pytest.param(NOTIFIED, reply("GAB"), True, id="ReplyIntentToInvestigate"),
    pytest.param(NOTIFIED, decline("GAB"), True, id="DeclineToInvestigate"),
    pytest.param(NOTIFIED, appoint("GAB"), True, id="AppointNationalInvestigationOfficer"),
    pytest.param(INVOLVING, open_investigation(OIOS, None), False, id="OpenInvestigation-OIOS"),
    pytest.param(NOTIFIED, open_investigation(NIO, "GAB"), True, id="OpenInvestigation-national"),
    pytest.param(UN_INVESTIGATING, conclude("I1"), False, id="ConcludeInvestigation-OIOS"),
    pytest.param(INVESTIGATING, conclude("I1"), True, id="ConcludeInvestigation-national"),
    pytest.param(INVOLVING, repatriate("P1"), True, id="RepatriatePersonnel"),
    pytest.param(SUBSTANTIATED, sanction("P1"), True, id="ImposeSanction"),
    pytest.param(SUBSTANTIATED, prosecute("P1"), True, id="ConcludeProsecution"),
    pytest.param(ONLY_GAB, close(), False, id="CloseCase"),
    pytest.param((), compact("GAB"), True, id="SignVoluntaryCompact"),
    pytest.param(INVOLVING, interim("P1"), True, id="TakeInterimAction"),
    pytest.param(SUBSTANTIATED, refer("P1"), True, id="MakeCriminalReferral"),
    pytest.param(NOTIFIED, ask_again("GAB"), False, id="RequestFollowUp"),
    pytest.param(ONLY_GAB, publish(), False, id="PublishCase"),
    pytest.param((*ONLY_GAB, close()), reopen(), False, id="ReopenCase"),
    pytest.param(INVOLVING, claim("P1"), True, id="FilePaternityClaim"),
    pytest.param(CLAIMED, establish(), True, id="EstablishPaternity"),
    pytest.param(ESTABLISHED, support(), True, id="ArrangeChildSupport"),
    pytest.param(WITH_VICTIM, assist(), False, id="ProvideVictimAssistance"),
    pytest.param((), circle("GAB"), True, id="JoinCircleOfLeadership"),
    pytest.param((), contribute("GAB"), True, id="ContributeToTrustFund"),
    pytest.param((), designate("GAB"), True, id="DesignateFocalPoint"),
    pytest.param(GAB_SANCTIONED, correct(SANCTION, SanctionImposed(
        "P1", CountryCode("GAB"), SanctionAuthority.MEMBER_STATE, SanctionKind.IMPRISONMENT, 18
    )), True, id="CorrectEvent"),
    pytest.param(GAB_SANCTIONED, retract(SANCTION), True, id="RetractEvent"),
    pytest.param(ONLY_GAB, narrate(), False, id="RecordNarrative"),
    pytest.param(ONLY_GAB, note(), False, id="AddCaseNote"),
    pytest.param(ONLY_GAB, erase(), False, id="EraseVictimData"),
]  # fmt: skip
# Commands only a Member State submits, for itself: an officer who registered a state's key
# could sign as that state. Each with the steps it needs and how it is signed.
STATE_ONLY = [
    pytest.param((), register(), None, id="RegisterSigningKey"),
    pytest.param(KEYED, revoke(), BY_GABON, id="RevokeSigningKey"),
]
ON_A_CASE = [
    p
    for p in ACCEPTABLE
    if isinstance(p.values[1], CaseCommand) and not isinstance(p.values[1], ReportAllegation)
]
CORRECTIONS = [p for p in ACCEPTABLE if isinstance(p.values[1], CorrectEvent | RetractEvent)]
# A closed case still takes these (and corrections): publication is about the record.
ON_A_CLOSED_CASE = (ReopenCase, PublishCase, EraseVictimData)


def test_the_acceptable_table_covers_every_command() -> None:
    covered = {type(p.values[1]).__name__ for p in [*ACCEPTABLE, *STATE_ONLY]}
    assert covered == set(COMMAND_TYPES)


@pytest.mark.parametrize(("steps", "command", "signer"), STATE_ONLY)
def test_only_the_state_itself_manages_its_signing_keys(
    steps: Steps, command: Command, signer: Signer | None
) -> None:
    state = arrange(steps, command)

    assert when(state, command, GABON, signer=signer)
    for other in (OFFICER, OVERSIGHT):
        with then_rejected(Rule.FORBIDDEN_ROLE, None):
            when(state, command, other)
    with then_rejected(Rule.FORBIDDEN_MEMBER_STATE, "member_state"):
        when(state, command, NEPAL, signer=signer)


@pytest.mark.parametrize(("steps", "command", "member_state_may"), ACCEPTABLE)
def test_oversight_can_do_nothing_that_an_officer_can(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = arrange(steps, command)
    assert when(state, command, OFFICER)

    with then_rejected(Rule.FORBIDDEN_ROLE, None):
        when(state, command, OVERSIGHT)


@pytest.mark.parametrize(("steps", "command", "member_state_may"), ACCEPTABLE)
def test_a_member_state_submits_only_what_is_its_own_to_submit(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = arrange(steps, command)

    if member_state_may:
        assert when(state, command, GABON)
    else:
        with then_rejected(Rule.FORBIDDEN_ROLE, None):
            when(state, command, GABON)


@pytest.mark.parametrize(("steps", "command", "member_state_may"), ON_A_CASE)
def test_a_member_state_acts_on_no_case_without_its_nationals(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = given(*steps)

    with then_rejected(Rule.FORBIDDEN_MEMBER_STATE, "case_id"):
        when(state, command, PAKISTAN)


@pytest.mark.parametrize(("steps", "command", "member_state_may"), ACCEPTABLE)
def test_a_member_state_principal_without_a_country_is_refused_everything(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = arrange(steps, command)
    stateless = Actor("mission-unknown", Role.MEMBER_STATE)

    with pytest.raises(Rejection) as raised:
        when(state, command, stateless)
    assert raised.value.code in {Rule.FORBIDDEN_ROLE, Rule.FORBIDDEN_MEMBER_STATE}


def test_a_member_state_whose_only_national_is_a_civilian_is_in_scope() -> None:
    """Scope follows nationality; only notification needs a uniformed national."""
    state = given(*UN_SUBSTANTIATED)

    then_events(
        when(state, sanction("P3", SanctionKind.FINE, months=None), FRANCE),
        SanctionImposed(
            "P3", CountryCode("FRA"), SanctionAuthority.MEMBER_STATE, SanctionKind.FINE, None
        ),
    )
    with then_rejected(Rule.NOT_NOTIFIED, "member_state"):
        when(state, reply("FRA"), FRANCE)


@pytest.mark.parametrize(("steps", "command", "member_state_may"), CORRECTIONS)
def test_a_member_state_corrects_nothing_on_a_case_without_its_nationals(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = given(*steps)

    with then_rejected(Rule.FORBIDDEN_MEMBER_STATE, "stream"):
        when(state, command, PAKISTAN)


@pytest.mark.parametrize(
    ("steps", "command", "member_state_may"),
    [p for p in ON_A_CASE if not isinstance(p.values[1], ON_A_CLOSED_CASE)],
)
def test_nothing_is_accepted_after_the_case_is_closed(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = given(*steps, close())

    with then_rejected(Rule.CASE_CLOSED, "case_id"):
        when(state, command)


def test_closing_an_unreported_case_finds_no_case() -> None:
    with then_rejected(Rule.CASE_NOT_FOUND, "case_id"):
        when(nothing(case_stream(CASE)), close())


# --- SignVoluntaryCompact ---------------------------------------------------------------


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-state-itself")])  # fmt: skip
def test_a_state_signs_the_voluntary_compact_on_its_own_stream(actor: Actor) -> None:
    then_events(
        when(nothing(state_stream("GAB")), compact("GAB"), actor),
        VoluntaryCompactSigned(CountryCode("GAB")),
    )
    record_ = given(Step(compact("GAB"), actor, at_day(1)))
    assert isinstance(record_, MemberStateRecord)
    assert (record_.member_state, record_.compact_signed_at) == ("GAB", at_day(1))


# --- the other commitments of a Member State --------------------------------------------


@pytest.mark.parametrize("actor", [pytest.param(OFFICER, id="officer"),
                                   pytest.param(GABON, id="the-state-itself")])  # fmt: skip
def test_a_state_joins_the_circle_of_leadership_once(actor: Actor) -> None:
    then_events(when(nothing(GAB_STREAM), circle("GAB"), actor),
                CircleOfLeadershipJoined(CountryCode("GAB")))  # fmt: skip
    joined = given(*SIGNED, Step(circle("GAB"), actor, at_day(4)))
    assert isinstance(joined, MemberStateRecord)
    assert (joined.circle_joined_at, joined.compact_signed_at) == (at_day(4), T0)


def test_a_state_contributes_to_the_trust_fund_as_often_as_it_likes() -> None:
    state = given(Step(contribute("GAB", 100_000), at=at_day(1)),
                  Step(contribute("GAB", 25_000), GABON, at_day(2)))  # fmt: skip

    assert isinstance(state, MemberStateRecord)
    assert state.contributions == (
        Contribution(at_day(1), 100_000),
        Contribution(at_day(2), 25_000),
    )
    assert state.contributed_usd == 125_000
    then_events(when(state, contribute("GAB", 1), GABON),
                TrustFundContributionMade(CountryCode("GAB"), 1))  # fmt: skip


def test_a_new_focal_point_designation_replaces_the_one_in_office() -> None:
    paternity, sea = FocalPointRole.PATERNITY, FocalPointRole.SEA
    state = given(Step(designate("GAB", paternity), at=at_day(1)),
                  Step(designate("GAB", sea), at=at_day(2)),
                  Step(designate("GAB", paternity), GABON, at_day(3)))  # fmt: skip

    assert isinstance(state, MemberStateRecord)
    assert state.focal_points == {paternity: at_day(3), sea: at_day(2)}
    then_events(when(state, designate("GAB", sea), GABON),
                FocalPointDesignated(CountryCode("GAB"), sea))  # fmt: skip


# --- CorrectEvent and RetractEvent ----------------------------------------------------------


def test_a_correction_carries_the_whole_payload_canonically_and_the_reason() -> None:
    loose = '{ "sex": "male", "perpetrator_id": "P1", "nationality": "NPL", "category": "MC" }'

    events = when(given(*INVOLVING), correct(P1, loose, reason="nationality was misread"))

    then_events(
        events,
        EventCorrected(nth(P1), payload(P1_AS_NEPALESE), None, "nationality was misread", 1),
    )


def test_a_corrected_nationality_changes_which_state_may_act() -> None:
    state = case(given(*CORRECTED))

    assert state.perpetrators["P1"].nationality == "NPL"
    assert state.nationalities == {"NPL", "FRA"}
    then_events(when(state, repatriate("P1"), NEPAL),
                PersonnelRepatriated("P1", CountryCode("NPL"), True))  # fmt: skip
    with then_rejected(Rule.FORBIDDEN_MEMBER_STATE, "case_id"):
        when(state, repatriate("P1"), GABON)
    with then_rejected(Rule.STATE_NOT_INVOLVED, "member_state"):
        when(state, notify("GAB"))


def test_a_retracted_perpetrator_is_gone_and_its_id_is_never_given_again() -> None:
    state = case(given(*INVOLVING, retract(P3, reason="not UN personnel")))

    assert list(state.perpetrators) == ["P1", "P2"]
    with then_rejected(Rule.FORBIDDEN_MEMBER_STATE, "case_id"):
        when(state, interim("P3"), FRANCE)
    with then_rejected(Rule.UNKNOWN_PERPETRATOR, "perpetrator_id"):
        when(state, repatriate("P3"))
    then_events(when(state, identify("FRA", CIVILIAN)), identified("P4", "FRA", CIVILIAN))
    with then_rejected(Rule.DUPLICATE_PERPETRATOR, "perpetrator_id"):
        when(state, identify("FRA", perpetrator_id="P3"))


def test_a_retraction_names_its_event_and_reason() -> None:
    then_events(when(given(*INVOLVING), retract(P3, reason="duplicate entry")),
                EventRetracted(nth(P3), "duplicate entry"))  # fmt: skip


def test_dependent_events_are_retracted_first_then_what_they_refer_to() -> None:
    state = case(given(*SUBSTANTIATED, retract(I1_CONCLUDED), retract(I1_OPENED)))

    assert state.investigations == {}
    assert state.substantiated_for(CountryCode("GAB")) is None
    with then_rejected(Rule.DUPLICATE_INVESTIGATION, "investigation_id"):
        when(state, open_investigation(investigation_id="I1"))
    then_events(when(state, open_investigation()),
                InvestigationOpened("I2", NIO, CountryCode("GAB"), False))  # fmt: skip


def test_a_retracted_notification_may_be_made_again() -> None:
    state = case(given(*NOTIFIED, retract(GAB_NOTIFIED)))

    assert state.follow_ups == {}
    then_events(when(state, notify("GAB")), MemberStateNotified(CountryCode("GAB"), True))


def test_a_corrected_instant_is_in_force_until_a_later_correction_restores_it() -> None:
    replied = MemberStateRepliedIntentToInvestigate(CountryCode("GAB"))
    recorded_at = T0 + timedelta(hours=5)
    earlier = case(given(*REPLIED, correct(GAB_REPLIED, replied, at=at_day(0.5))))
    restored = case(given(*REPLIED, correct(GAB_REPLIED, replied, at=at_day(0.5)),
                          correct(GAB_REPLIED, replied)))  # fmt: skip

    assert earlier.follow_ups[CountryCode("GAB")].replied_at == at_day(0.5)
    assert restored.follow_ups[CountryCode("GAB")].replied_at == recorded_at


def test_a_corrected_finding_changes_what_may_follow_it() -> None:
    unsubstantiated = InvestigationConcluded(
        "I1", NIO, CountryCode("GAB"), Finding.NOT_SUBSTANTIATED, True, 0
    )
    state = case(given(*SUBSTANTIATED, correct(I1_CONCLUDED, unsubstantiated)))

    assert state.investigations["I1"].finding is Finding.NOT_SUBSTANTIATED
    with then_rejected(Rule.NOT_SUBSTANTIATED, "case_id"):
        when(state, sanction("P1"), GABON)


def test_a_member_state_corrects_and_retracts_what_it_recorded_itself() -> None:
    eighteen_months = SanctionImposed("P1", CountryCode("GAB"), SanctionAuthority.MEMBER_STATE,
                                      SanctionKind.IMPRISONMENT, 18)  # fmt: skip
    state = given(*GAB_SANCTIONED)

    then_events(
        when(state, correct(SANCTION, eighteen_months, reason="sentence reduced on appeal"),
             GABON),
        EventCorrected(nth(SANCTION), payload(eighteen_months), None,
                       "sentence reduced on appeal", 1),
    )  # fmt: skip
    then_events(when(state, retract(SANCTION), GABON),
                EventRetracted(nth(SANCTION), "recorded in error"))  # fmt: skip


def test_the_copied_nationality_of_a_perpetrators_event_is_corrected_after_the_nationality() -> (
    None
):
    as_nepalese = InterimActionTaken("P1", CountryCode("NPL"), InterimAction.PAYMENTS_SUSPENDED)
    state = given(*INVOLVING, interim("P1"), correct(P1, P1_AS_NEPALESE))  # interim is step 5

    then_events(
        when(state, correct(5, as_nepalese)),
        EventCorrected(nth(5), payload(as_nepalese), None, "recorded in error", 1),
    )


def test_a_report_is_corrected_without_changing_its_case() -> None:
    month_only = reported(incident_date=date(2023, 12, 1), precision=DatePrecision.MONTH)
    state = case(given(*INVOLVING, correct(REPORT, month_only, at=T0 - timedelta(days=2))))

    assert state.received_at == T0 - timedelta(days=2)
    assert state.case_id == CASE
    with then_rejected(Rule.CORRECTION_CHANGES_IDENTITY, "corrected_payload"):
        when(state, correct(REPORT, replace(month_only, case_id=CaseId("C-2024-002"))))


def test_a_retracted_report_withdraws_the_case_but_corrections_go_on() -> None:
    state = case(given(*WITHDRAWN))

    assert state.withdrawn
    assert not state.reported
    then_events(when(state, retract(P3)), EventRetracted(nth(P3), "recorded in error"))
    then_events(
        when(state, correct(P1, P1_AS_NEPALESE)),
        EventCorrected(nth(P1), payload(P1_AS_NEPALESE), None, "recorded in error", 1),
    )
    with then_rejected(Rule.ALREADY_RETRACTED, "event_id"):
        when(state, correct(REPORT, reported()))


@pytest.mark.parametrize(
    ("steps", "command", "member_state_may"),
    [p for p in ON_A_CASE if not isinstance(p.values[1], EraseVictimData)],
)
def test_a_withdrawn_case_takes_no_command(
    steps: Steps, command: Command, member_state_may: bool
) -> None:
    state = given(*steps, retract(REPORT))

    with then_rejected(Rule.CASE_WITHDRAWN, "case_id"):
        when(state, command)


def test_corrections_and_retractions_apply_on_a_member_state_stream() -> None:
    state = given(compact("GAB"), Step(contribute("GAB", 100), GABON),
                  correct(2, TrustFundContributionMade(CountryCode("GAB"), 1_000_000),
                          stream=GAB_STREAM),
                  retract(1, stream=GAB_STREAM))  # fmt: skip

    assert isinstance(state, MemberStateRecord)
    assert state.compact_signed_at is None
    assert state.contributed_usd == 1_000_000
    then_events(when(state, compact("GAB"), GABON), VoluntaryCompactSigned(CountryCode("GAB")))


def test_a_correction_leaves_the_corrected_envelope_and_its_hash_as_recorded() -> None:
    before, recorded = record(*INVOLVING)
    after, with_correction = record(*CORRECTED)
    original = recorded[P1 - 1]

    assert with_correction[P1 - 1] == original
    raw = encode_envelope(with_correction[P1 - 1])
    assert stored_hash_of(raw) == (original.hash, original.hash)
    assert case(after).history.records[original.event_id].envelope == original
    assert fold(CASE_STREAM, with_correction) == after
    assert case(before).perpetrators["P1"].nationality == "GAB"


def test_refolding_the_events_in_force_gives_the_state_of_the_corrected_stream() -> None:
    _, envelopes = record(*SUBSTANTIATED, retract(I1_CONCLUDED), correct(P2, identified(
        "P2", "BGD", FPU)), retract(P3), correct(GAB_REPLIED, MemberStateRepliedIntentToInvestigate(
        CountryCode("GAB")), at=at_day(2)))  # fmt: skip
    corrected = case(fold(CASE_STREAM, envelopes))

    in_force = case(fold(CASE_STREAM, corrected.history.in_force()))

    assert replace(in_force, head=corrected.head, history=corrected.history,
                   command_ids=corrected.command_ids) == corrected  # fmt: skip
    assert set(corrected.perpetrators) == {"P1", "P2"}
    assert corrected.perpetrators["P2"].nationality == "BGD"
    assert corrected.follow_ups[CountryCode("GAB")].replied_at == at_day(2)
    assert corrected.investigations["I1"].finding is None


# --- the chain and replay ---------------------------------------------------------------


def test_a_whole_case_is_one_gapless_chain_that_replays_to_the_same_state() -> None:
    state, envelopes = record(*CLOSED)

    assert [e.sequence for e in envelopes] == list(range(1, len(envelopes) + 1))
    assert envelopes[0].prev_hash == StreamHead().hash
    assert all(b.prev_hash == a.hash for a, b in pairwise(envelopes))
    assert fold(case_stream(CASE), envelopes) == state
    assert state.head == envelopes[-1].head
