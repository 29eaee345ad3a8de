"""Invariants of the decider over random sequences of commands, valid and invalid.

The pools of case ids, countries, perpetrator, investigation and claim ids are small so
that random commands meet each other: a notification finds its perpetrator, a sanction
its substantiated finding, a Member State a case of its nationals or of another state's,
a correction an event of its stream. Corrections and retractions are drawn as
:class:`Amend` and :class:`Withdraw` and built at play time, when the event they name
and its payload are known.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.events.case import CaseState
from accountability.events.catalogue import (
    CasePublished,
    CaseReopened,
    ChildSupportArranged,
    CriminalReferralMade,
    Event,
    EventCorrected,
    EventRetracted,
    InvestigationConcluded,
    PaternityEstablished,
    ProsecutionConcluded,
    SanctionImposed,
)
from accountability.events.codec import (
    field_specs,
    from_json_object,
    loads_object,
    to_json_object,
)
from accountability.events.commands import (
    Actor,
    AppointNationalInvestigationOfficer,
    ArrangeChildSupport,
    CloseCase,
    Command,
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
    decode_envelope,
    derive_event_id,
    seal,
    stored_hash_of,
    verify_link,
)
from accountability.events.errors import Rejection
from accountability.events.history import History
from accountability.events.rules import CLOCK_SKEW, Rule
from accountability.events.types import CaseId, CommandId, CountryCode, JsonValue, StreamId
from accountability.events.vocabulary import (
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
    Role,
    SanctionAuthority,
    SanctionKind,
    Sex,
)

T0 = datetime(2024, 1, 8, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=60)

# Small pools, each with one bad value, so that commands interact and also fail.
CASE_IDS = ("C1", "C1", "C2")
COUNTRIES = ("GAB", "NPL", "FRA", "XXX")
PERPETRATOR_IDS = ("P1", "P2", "P9")
INVESTIGATION_IDS = ("I1", "I2", "I9")
CLAIM_IDS = ("C1", "C2", "C9")
VICTIM_IDS = ("V1", "V2")

OFFICER = Actor("officer-1", Role.OFFICER)
ACTORS = (
    OFFICER,
    Actor("panel-1", Role.OVERSIGHT),
    Actor("mission-gab", Role.MEMBER_STATE, CountryCode("GAB")),
    Actor("mission-gab", Role.MEMBER_STATE, CountryCode("GAB")),
    Actor("mission-npl", Role.MEMBER_STATE, CountryCode("NPL")),
    Actor("mission-fra", Role.MEMBER_STATE, CountryCode("FRA")),
    Actor("mission-none", Role.MEMBER_STATE),
)

PROPERTY = settings(max_examples=50, deadline=None, database=None)

case_ids = st.sampled_from(CASE_IDS).map(CaseId)
any_case_ids = st.sampled_from((*CASE_IDS, "bad id")).map(CaseId)
countries = st.sampled_from(COUNTRIES).map(CountryCode)
perpetrator_ids = st.sampled_from(PERPETRATOR_IDS)
investigation_ids = st.sampled_from(INVESTIGATION_IDS)
claim_ids = st.sampled_from(CLAIM_IDS)
months = st.none() | st.integers(-1, 36)


@dataclass(frozen=True, slots=True)
class Amend:
    """A ``CorrectEvent`` built at play time, of an event recorded earlier in the run.

    ``target`` picks the event (see :func:`build`); ``change`` the field of the payload
    in force to change and how; ``shift_hours``, when given, moves the event in time;
    ``elsewhere`` names another stream than the event's own.
    """

    target: int
    change: int
    shift_hours: int | None
    elsewhere: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Withdraw:
    """A ``RetractEvent`` built at play time, of an event recorded earlier in the run."""

    target: int
    elsewhere: bool
    reason: str


Drawn = Command | Amend | Withdraw
reasons = st.sampled_from(("recorded in error",) * 6 + ("", "x" * 501))
targets = st.integers(0, 40)
elsewhere = st.sampled_from((False, False, False, True))
UNKNOWN_TARGET = 40
amendments = st.builds(
    Amend, targets, st.integers(0, 60), st.none() | st.integers(-48, 48), elsewhere, reasons
)
withdrawals = st.builds(Withdraw, targets, elsewhere, reasons)


def weighted(*choices: tuple[int, st.SearchStrategy[Drawn]]) -> st.SearchStrategy[Drawn]:
    """One of ``choices``, each as often as its weight says."""
    return st.one_of([strategy for weight, strategy in choices for _ in range(weight)])


# Every command type; the follow-up chain weighs more than reporting and closing, so that
# runs go deep before a case is closed. Hypothesis favours the first and the last branch,
# so neither is CloseCase.
commands = weighted(
    (3, st.builds(
        ReportAllegation,
        any_case_ids,
        st.sampled_from(AllegationType),
        st.sampled_from(("MINUSCA", "MONUSCO", "MINUSXX", "BINUH")) | st.none(),
        st.none() | st.dates(date(2023, 6, 1), date(2024, 3, 1)),
        st.sampled_from(EntityKind),
        st.none() | st.sampled_from(("UNICEF", " ")),
        st.none() | st.sampled_from(DatePrecision),
    )),
    (6, st.builds(
        IdentifyAllegedPerpetrator,
        case_ids,
        st.sampled_from(PersonnelCategory),
        countries,
        st.sampled_from(Sex),
        st.none() | perpetrator_ids,
    )),
    (3, st.builds(
        RecordVictim,
        case_ids,
        st.sampled_from(AgeGroup),
        st.sampled_from(Sex),
        st.none() | st.sampled_from(("V1", "V 2")),
    )),
    (1, st.builds(CloseCase, case_ids, st.sampled_from(ClosureReason))),
    (9, st.builds(NotifyMemberState, any_case_ids, countries, st.booleans())),
    (9, st.builds(ReplyIntentToInvestigate, case_ids, countries)),
    (3, st.builds(DeclineToInvestigate, case_ids, countries)),
    (6, st.builds(AppointNationalInvestigationOfficer, case_ids, countries)),
    (9, st.builds(
        OpenInvestigation,
        case_ids,
        st.sampled_from(InvestigatingEntity),
        st.none() | countries,
        st.booleans(),
        st.none() | investigation_ids,
    )),
    (6, st.builds(OpenInvestigation, case_ids, st.just(InvestigatingEntity.OIOS))),
    (12, st.builds(
        ConcludeInvestigation, case_ids, investigation_ids, st.sampled_from(Finding), st.booleans()
    )),
    (3, st.builds(TakeInterimAction, case_ids, perpetrator_ids, st.sampled_from(InterimAction))),
    (6, st.builds(RepatriatePersonnel, case_ids, perpetrator_ids, st.booleans())),
    (9, st.builds(
        ImposeSanction,
        case_ids,
        perpetrator_ids,
        st.sampled_from(SanctionKind),
        st.sampled_from(SanctionAuthority),
        months,
    )),
    (6, st.builds(MakeCriminalReferral, case_ids, perpetrator_ids)),
    (9, st.builds(
        ConcludeProsecution, case_ids, perpetrator_ids, st.sampled_from(ProsecutionOutcome), months
    )),
    (3, st.builds(RequestFollowUp, case_ids, countries)),
    (2, st.builds(PublishCase, case_ids, st.none() | st.sampled_from(("REF-1", " ")))),
    (2, st.builds(ReopenCase, case_ids, st.sampled_from(ReopenReason))),
    (4, st.builds(
        FilePaternityClaim, case_ids, st.none() | perpetrator_ids, st.none() | claim_ids
    )),
    (4, st.builds(EstablishPaternity, case_ids, claim_ids)),
    (3, st.builds(ArrangeChildSupport, case_ids, claim_ids)),
    (3, st.builds(
        ProvideVictimAssistance,
        case_ids,
        st.sampled_from(VICTIM_IDS),
        st.lists(st.sampled_from(AssistanceKind), max_size=3).map(tuple),
    )),
    (12, amendments),
    (6, withdrawals),
    (2, st.builds(JoinCircleOfLeadership, countries)),
    (2, st.builds(ContributeToTrustFund, countries, st.integers(-10, 10**6))),
    (2, st.builds(DesignateFocalPoint, countries, st.sampled_from(FocalPointRole))),
    (2, st.builds(SignVoluntaryCompact, countries)),
)  # fmt: skip


OWN = Actor("the-state-the-command-names", Role.MEMBER_STATE)
"""Stands for the Member State a command names (or, for a correction, the author of the
event it names), so that states often act for themselves."""


def actor_of(command: Command, actor: Actor, author: Actor | None = None) -> Actor:
    if actor is not OWN:
        return actor
    if author is not None:
        return author
    named = getattr(command, "member_state", None)
    return Actor(f"mission-{named.lower()}", Role.MEMBER_STATE, named) if named else OFFICER


# Mostly the officer; hours since the previous command: mostly forward, sometimes back,
# far enough in total that the last commands of a long run are in the future.
actors = st.just(OFFICER) | st.sampled_from((OWN, *ACTORS))
step = st.tuples(commands, actors, st.integers(-12, 60))

# Two reported cases with uniformed and civilian perpetrators, two states notified, so that
# random commands get past "case not found" and "not notified" and reach the end of the
# follow-up chain; the random part may still report, identify, notify or fail to.
PRELUDE: list[tuple[Drawn, Actor, int]] = [
    (ReportAllegation(CaseId("C1"), AllegationType.SEXUAL_ABUSE, "MINUSCA", None), OFFICER, 0),
    (IdentifyAllegedPerpetrator(CaseId("C1"), PersonnelCategory.MILITARY_MC,
                                CountryCode("GAB")), OFFICER, 1),
    (IdentifyAllegedPerpetrator(CaseId("C1"), PersonnelCategory.POLICE_FPU,
                                CountryCode("NPL")), OFFICER, 1),
    (IdentifyAllegedPerpetrator(CaseId("C1"), PersonnelCategory.CIVILIAN_INT,
                                CountryCode("FRA")), OFFICER, 1),
    (NotifyMemberState(CaseId("C1"), CountryCode("GAB")), OFFICER, 1),
    (NotifyMemberState(CaseId("C1"), CountryCode("NPL")), OFFICER, 1),
    (ReportAllegation(CaseId("C2"), AllegationType.SEXUAL_EXPLOITATION, None, None,
                      EntityKind.AGENCY_FUND_PROGRAMME, "UNICEF"), OFFICER, 1),
    (IdentifyAllegedPerpetrator(CaseId("C2"), PersonnelCategory.POLICE_UNPOL,
                                CountryCode("GAB")), OFFICER, 1),
]  # fmt: skip
# ... and, in some runs, a substantiated UN finding in case C1, so that sanctions,
# referrals and prosecutions are tried by every kind of actor, and a paternity claim.
SUBSTANTIATED: list[tuple[Drawn, Actor, int]] = [
    *PRELUDE,
    (OpenInvestigation(CaseId("C1"), InvestigatingEntity.OIOS), OFFICER, 1),
    (ConcludeInvestigation(CaseId("C1"), "I1", Finding.SUBSTANTIATED, True), OFFICER, 1),
    (FilePaternityClaim(CaseId("C1"), "P1"), OFFICER, 1),
    (RecordVictim(CaseId("C1"), AgeGroup.CHILD, Sex.FEMALE), OFFICER, 1),
]
# ... and in others a run that corrects or retracts after every command it records.
correction = st.builds(
    Amend,
    targets,
    st.integers(0, 60),
    st.none() | st.integers(-48, 48),
    st.just(False),
    st.just("recorded in error"),
) | st.builds(Withdraw, targets, st.just(False), st.just("recorded in error"))
correcting_step = st.tuples(correction, actors, st.integers(0, 6))


def alternate(
    pair: tuple[Sequence[tuple[Drawn, Actor, int]], Sequence[tuple[Drawn, Actor, int]]],
) -> list[tuple[Drawn, Actor, int]]:
    """The commands of ``pair[0]`` with the corrections of ``pair[1]`` between them."""
    return [item for couple in zip(*pair, strict=False) for item in couple]


scripts = st.one_of(
    st.lists(step, min_size=1, max_size=30),
    st.lists(step, min_size=20, max_size=60).map(lambda rest: [*PRELUDE, *rest]),
    st.tuples(
        st.lists(step, min_size=8, max_size=25), st.lists(correcting_step, min_size=8, max_size=25)
    ).map(lambda pair: [*SUBSTANTIATED, *alternate(pair)]),
    st.lists(step, min_size=10, max_size=40).map(lambda rest: [*SUBSTANTIATED, *rest]),
)


# --- corrections, built at play time ------------------------------------------------------


def amended(event: Event, change: int) -> JsonValue:
    """The payload of ``event`` with one field changed as ``change`` says: often valid,
    sometimes an identity, a bad value, nothing at all, or not a payload."""
    if change == 60:
        return "not a payload"
    specs = field_specs(type(event))
    spec = specs[change % len(specs)]
    data = to_json_object(event)
    value = data[spec.name]
    kind = spec.kind
    if kind.repeated:
        data[spec.name] = [] if change % 2 else [*(value if isinstance(value, list) else [])][:1]
    elif kind.enum is not None:
        members: list[StrEnum] = list(kind.enum)
        data[spec.name] = members[change % len(members)].value
    elif kind.base is bool:
        data[spec.name] = not value
    elif kind.base is int:
        data[spec.name] = (value if isinstance(value, int) else 0) + change % 5 - 2
    elif kind.base is date:
        data[spec.name] = None if kind.optional and change % 3 == 0 else "2023-12-01"
    elif spec.name in {"member_state", "nationality"}:
        data[spec.name] = COUNTRIES[change % len(COUNTRIES)]
    elif kind.base is str:
        data[spec.name] = f"{value}x" if change % 4 == 0 else value
    return data


@dataclass(frozen=True, slots=True)
class Accepted:
    command: CommandEnvelope
    before: StreamState
    after: StreamState
    events: list[Event]


@dataclass
class Run:
    states: dict[StreamId, StreamState] = field(default_factory=dict)
    log: defaultdict[StreamId, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[tuple[CommandEnvelope, Rejection]] = field(default_factory=list)
    sealed: dict[str, Envelope] = field(default_factory=dict)
    """Every event as sealed, by event id."""
    first_event: dict[int, Envelope] = field(default_factory=dict)
    """The first event each step of the script recorded, by its position."""

    def events_of(self, stream_id: StreamId) -> list[Event]:
        return [e for a in self.accepted if a.command.stream_id == stream_id for e in a.events]


def build(run: Run, drawn: Drawn) -> tuple[Command, Actor | None]:
    """The command ``drawn`` stands for, and the author of the event it names, if any."""
    if not isinstance(drawn, Amend | Withdraw):
        return drawn, None
    recorded_steps = sorted(run.first_event)
    target = (
        run.first_event[recorded_steps[drawn.target % len(recorded_steps)]]
        if recorded_steps and drawn.target != UNKNOWN_TARGET
        else None
    )
    event_id = target.event_id if target else derive_event_id("no-such-command", 0)
    stream = target.stream_id if target else case_stream("C1")
    if drawn.elsewhere:
        stream = case_stream("C2") if stream == case_stream("C1") else case_stream("C1")
    author = target.actor if target else None
    if isinstance(drawn, Withdraw):
        return RetractEvent(stream, event_id, drawn.reason), author
    recorded = target and run.states[target.stream_id].history.get(event_id)
    if not recorded:
        return CorrectEvent(stream, event_id, "{}", drawn.reason), author
    text = json.dumps(amended(recorded.payload, drawn.change))  # not canonical, on purpose
    shift = drawn.shift_hours
    at = None if shift is None else recorded.occurred_at + timedelta(hours=shift)
    return CorrectEvent(stream, event_id, text, drawn.reason, at), author


def play(script: list[tuple[Drawn, Actor, int]]) -> Run:
    """What the worker does: decide each command on its stream, seal, evolve, log."""
    run = Run()
    clock = T0
    for number, (drawn, actor, hours) in enumerate(script):
        clock += timedelta(hours=hours)
        command, author = build(run, drawn)
        envelope = CommandEnvelope(
            CommandId(f"cmd-{number}"),
            f"corr-{number}",
            actor_of(command, actor, author),
            clock,
            clock,
            command,
        )
        stream_id = envelope.stream_id
        state = run.states.get(stream_id) or initial_state(stream_id)
        try:
            events = decide(state, envelope, NOW)
        except Rejection as rejection:
            run.rejected.append((envelope, rejection))
            continue
        after = state
        for sealed, raw in seal(state.head, envelope, events, NOW):
            after = evolve(after, sealed)
            run.log[stream_id].append(raw)
            run.sealed[sealed.event_id] = sealed
            run.first_event.setdefault(number, sealed)
        run.accepted.append(Accepted(envelope, state, after, events))
        run.states[stream_id] = after
    return run


def in_force(envelopes: list[Envelope]) -> list[Envelope]:
    """The stream as it should have been recorded, worked out here from the log alone."""
    by_id: dict[str, Envelope] = {e.event_id: e for e in envelopes}
    corrected: dict[str, Envelope] = {}
    retracted: set[str] = set()
    for envelope in envelopes:
        match envelope.payload:
            case EventCorrected() as correction:
                original = by_id[correction.event_id]
                data = loads_object(correction.corrected_payload, "corrected_payload")
                corrected[original.event_id] = replace(
                    original,
                    payload=from_json_object(type(original.payload), data),
                    occurred_at=correction.corrected_occurred_at or original.occurred_at,
                )
            case EventRetracted() as retraction:
                retracted.add(retraction.event_id)
    return [
        corrected.get(e.event_id, e)
        for e in envelopes
        if not isinstance(e.payload, CORRECTIONS) and e.event_id not in retracted
    ]


def facts(state: StreamState) -> StreamState:
    """What a state knows of the world: without its head, history and command ids."""
    return replace(state, head=StreamHead(), history=History(), command_ids=frozenset())


CORRECTIONS = (EventCorrected, EventRetracted)
AFTER_CLOSING = (CaseReopened, CasePublished, *CORRECTIONS)


@PROPERTY
@given(scripts)
def test_decide_returns_events_or_a_rejection_naming_a_rule_and_a_field(script) -> None:
    run = play(script)  # any other exception fails the test

    assert all(a.events for a in run.accepted)
    for envelope, rejection in run.rejected:
        own_fields = {f.name for f in fields(envelope.command)}
        assert rejection.code in set(Rule)
        assert rejection.field in {*own_fields, "occurred_at", None}
        assert rejection.message


@PROPERTY
@given(scripts)
def test_every_stream_is_a_gapless_chain_whose_every_link_verifies(script) -> None:
    run = play(script)

    for stream_id, raws in run.log.items():
        head = StreamHead()
        for raw in raws:
            head = verify_link(raw, head).head
        envelopes = [decode_envelope(raw) for raw in raws]
        assert [e.sequence for e in envelopes] == list(range(1, len(raws) + 1))
        assert run.states[stream_id].head == head


@PROPERTY
@given(scripts)
def test_replaying_the_logged_envelopes_folds_to_the_incremental_state(script) -> None:
    run = play(script)

    for stream_id, raws in run.log.items():
        envelopes: list[Envelope] = [decode_envelope(raw) for raw in raws]
        assert fold(stream_id, envelopes) == run.states[stream_id]


@PROPERTY
@given(scripts)
def test_a_member_state_acts_only_for_itself_and_only_on_cases_of_its_nationals(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        actor, before = accepted.command.actor, accepted.before
        assert actor.role is not Role.OVERSIGHT
        if actor.role is not Role.MEMBER_STATE:
            continue
        assert actor.member_state is not None
        if isinstance(before, CaseState):
            assert before.involves(actor.member_state)
        for event in accepted.events:
            if isinstance(event, CORRECTIONS):
                recorded = before.history.get(event.event_id)
                assert recorded is not None
                assert recorded.envelope.actor.member_state == actor.member_state
            elif isinstance(event, PaternityEstablished | ChildSupportArranged):
                assert isinstance(before, CaseState)
                assert before.claims[event.claim_id].member_state == actor.member_state
            else:
                assert getattr(event, "member_state", None) == actor.member_state
            if isinstance(event, SanctionImposed):
                assert event.imposed_by is SanctionAuthority.MEMBER_STATE


@PROPERTY
@given(scripts)
def test_a_closed_case_takes_only_a_reopening_a_publication_or_a_correction(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        before, events = accepted.before, accepted.events
        if not isinstance(before, CaseState):
            continue
        if before.withdrawn:
            assert all(isinstance(e, CORRECTIONS) for e in events)
        elif before.status == "closed":
            assert all(isinstance(e, AFTER_CLOSING) for e in events)


@PROPERTY
@given(scripts)
def test_no_sanction_referral_or_prosecution_without_an_earlier_basis(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        before, at = accepted.before, accepted.command.occurred_at
        for event in accepted.events:
            if not isinstance(event, SanctionImposed | CriminalReferralMade | ProsecutionConcluded):
                continue
            assert isinstance(before, CaseState)
            bases = [before.substantiated_for(event.member_state)]
            if isinstance(event, ProsecutionConcluded):
                bases.append(before.referred.get(event.perpetrator_id))
            assert min(b for b in bases if b is not None) <= at
    for stream_id in run.log:
        events = run.events_of(stream_id)
        if any(isinstance(e, CORRECTIONS) for e in events):
            continue  # a correction may take a finding back; the states above still hold
        substantiated = False
        for event in events:
            if isinstance(event, SanctionImposed | CriminalReferralMade | ProsecutionConcluded):
                assert substantiated
            if isinstance(event, InvestigationConcluded):
                substantiated |= event.finding is Finding.SUBSTANTIATED


@PROPERTY
@given(scripts)
def test_accepted_events_are_dated_between_the_report_and_now(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        at, before = accepted.command.occurred_at, accepted.before
        assert at <= NOW + CLOCK_SKEW
        correcting = all(isinstance(e, CORRECTIONS) for e in accepted.events)
        if isinstance(before, CaseState) and before.received_at is not None and not correcting:
            assert at >= before.received_at


@PROPERTY
@given(scripts)
def test_corrections_never_change_the_bytes_or_hash_of_the_event_they_correct(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        stream_id = accepted.command.stream_id
        for event in accepted.events:
            if not isinstance(event, CORRECTIONS):
                continue
            original = run.sealed[event.event_id]
            [raw] = [
                r for r in run.log[stream_id] if decode_envelope(r).event_id == original.event_id
            ]
            assert stored_hash_of(raw) == (original.hash, original.hash)
            assert decode_envelope(raw) == original
            final = run.states[stream_id].history.get(original.event_id)
            assert final is not None
            assert final.envelope == original


@PROPERTY
@given(scripts)
def test_folding_the_events_in_force_gives_the_incremental_state(script) -> None:
    run = play(script)

    for stream_id, raws in run.log.items():
        envelopes = [decode_envelope(raw) for raw in raws]
        state = run.states[stream_id]
        assert facts(fold(stream_id, in_force(envelopes))) == facts(state)
        assert list(state.history.in_force()) == in_force(envelopes)


@PROPERTY
@given(scripts)
def test_an_accepted_command_is_a_duplicate_afterwards_and_only_then(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        assert not is_duplicate(accepted.before, accepted.command)
        assert is_duplicate(accepted.after, accepted.command)
    for envelope, _rejection in run.rejected:
        stream_id = envelope.stream_id
        state = run.states.get(stream_id) or initial_state(stream_id)
        assert not is_duplicate(state, envelope)
