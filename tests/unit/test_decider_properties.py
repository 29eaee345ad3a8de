"""Invariants of the decider over random sequences of commands, valid and invalid.

The pools of case ids, countries, perpetrator and investigation ids are small so that
random commands meet each other: a notification finds its perpetrator, a sanction its
substantiated finding, a Member State a case of its nationals or of another state's.
"""

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.events.case import CaseState
from accountability.events.catalogue import (
    CaseClosed,
    Event,
    InvestigationConcluded,
    ProsecutionConcluded,
    SanctionImposed,
)
from accountability.events.commands import (
    Actor,
    AppointNationalInvestigationOfficer,
    CloseCase,
    Command,
    CommandEnvelope,
    ConcludeInvestigation,
    ConcludeProsecution,
    DeclineToInvestigate,
    IdentifyAllegedPerpetrator,
    ImposeSanction,
    NotifyMemberState,
    OpenInvestigation,
    RecordVictim,
    RepatriatePersonnel,
    ReplyIntentToInvestigate,
    ReportAllegation,
    SignVoluntaryCompact,
)
from accountability.events.decider import (
    StreamState,
    decide,
    evolve,
    fold,
    initial_state,
    is_duplicate,
)
from accountability.events.envelope import Envelope, StreamHead, decode_envelope, seal, verify_link
from accountability.events.errors import Rejection
from accountability.events.rules import CLOCK_SKEW, Rule
from accountability.events.types import CaseId, CommandId, CountryCode, StreamId
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    ClosureReason,
    Finding,
    InvestigatingEntity,
    PersonnelCategory,
    ProsecutionOutcome,
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

PROPERTY = settings(max_examples=60, deadline=None, database=None)

case_ids = st.sampled_from(CASE_IDS).map(CaseId)
any_case_ids = st.sampled_from((*CASE_IDS, "bad id")).map(CaseId)
countries = st.sampled_from(COUNTRIES).map(CountryCode)
perpetrator_ids = st.sampled_from(PERPETRATOR_IDS)
investigation_ids = st.sampled_from(INVESTIGATION_IDS)
months = st.none() | st.integers(-1, 36)


def weighted(*choices: tuple[int, st.SearchStrategy[Command]]) -> st.SearchStrategy[Command]:
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
        st.sampled_from(("MINUSCA", "MONUSCO", "MINUSXX")) | st.none(),
        st.none() | st.dates(date(2023, 6, 1), date(2024, 3, 1)),
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
    (6, st.builds(RepatriatePersonnel, case_ids, perpetrator_ids, st.booleans())),
    (9, st.builds(
        ImposeSanction,
        case_ids,
        perpetrator_ids,
        st.sampled_from(SanctionKind),
        st.sampled_from(SanctionAuthority),
        months,
    )),
    (9, st.builds(
        ConcludeProsecution, case_ids, perpetrator_ids, st.sampled_from(ProsecutionOutcome), months
    )),
    (2, st.builds(SignVoluntaryCompact, countries)),
)  # fmt: skip


OWN = Actor("the-state-the-command-names", Role.MEMBER_STATE)
"""Stands for the Member State a command names, so that states often act for themselves."""


def actor_of(command: Command, actor: Actor) -> Actor:
    named = getattr(command, "member_state", None)
    if actor is not OWN:
        return actor
    return Actor(f"mission-{named.lower()}", Role.MEMBER_STATE, named) if named else OFFICER


# Mostly the officer; hours since the previous command: mostly forward, sometimes back,
# far enough in total that the last commands of a long run are in the future.
actors = st.just(OFFICER) | st.sampled_from((OWN, *ACTORS))
step = st.tuples(commands, actors, st.integers(-12, 60))

# Two reported cases with uniformed and civilian perpetrators, two states notified, so that
# random commands get past "case not found" and "not notified" and reach the end of the
# follow-up chain; the random part may still report, identify, notify or fail to.
PRELUDE: list[tuple[Command, Actor, int]] = [
    (ReportAllegation(CaseId("C1"), AllegationType.SEXUAL_ABUSE, "MINUSCA", None), OFFICER, 0),
    (IdentifyAllegedPerpetrator(CaseId("C1"), PersonnelCategory.MILITARY_MC,
                                CountryCode("GAB")), OFFICER, 1),
    (IdentifyAllegedPerpetrator(CaseId("C1"), PersonnelCategory.POLICE_FPU,
                                CountryCode("NPL")), OFFICER, 1),
    (IdentifyAllegedPerpetrator(CaseId("C1"), PersonnelCategory.CIVILIAN_INT,
                                CountryCode("FRA")), OFFICER, 1),
    (NotifyMemberState(CaseId("C1"), CountryCode("GAB")), OFFICER, 1),
    (NotifyMemberState(CaseId("C1"), CountryCode("NPL")), OFFICER, 1),
    (ReportAllegation(CaseId("C2"), AllegationType.SEXUAL_EXPLOITATION, None, None), OFFICER, 1),
    (IdentifyAllegedPerpetrator(CaseId("C2"), PersonnelCategory.POLICE_UNPOL,
                                CountryCode("GAB")), OFFICER, 1),
]  # fmt: skip
# ... and, in some runs, a substantiated UN finding in case C1, so that sanctions and
# prosecutions are tried by every kind of actor.
SUBSTANTIATED: list[tuple[Command, Actor, int]] = [
    *PRELUDE,
    (OpenInvestigation(CaseId("C1"), InvestigatingEntity.OIOS), OFFICER, 1),
    (ConcludeInvestigation(CaseId("C1"), "I1", Finding.SUBSTANTIATED, True), OFFICER, 1),
]
scripts = st.one_of(
    st.lists(step, min_size=1, max_size=30),
    st.lists(step, min_size=20, max_size=60).map(lambda rest: [*PRELUDE, *rest]),
    st.lists(step, min_size=10, max_size=40).map(lambda rest: [*SUBSTANTIATED, *rest]),
)


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

    def events_of(self, stream_id: StreamId) -> list[Event]:
        return [e for a in self.accepted if a.command.stream_id == stream_id for e in a.events]


def play(script: list[tuple[Command, Actor, int]]) -> Run:
    """What the worker does: decide each command on its stream, seal, evolve, log."""
    run = Run()
    clock = T0
    for number, (command, actor, hours) in enumerate(script):
        clock += timedelta(hours=hours)
        envelope = CommandEnvelope(
            CommandId(f"cmd-{number}"),
            f"corr-{number}",
            actor_of(command, actor),
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
        run.accepted.append(Accepted(envelope, state, after, events))
        run.states[stream_id] = after
    return run


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
        actor = accepted.command.actor
        assert actor.role is not Role.OVERSIGHT
        if actor.role is not Role.MEMBER_STATE:
            continue
        assert actor.member_state is not None
        if isinstance(accepted.before, CaseState):
            assert accepted.before.involves(actor.member_state)
        for event in accepted.events:
            assert getattr(event, "member_state", None) == actor.member_state
            if isinstance(event, SanctionImposed):
                assert event.imposed_by is SanctionAuthority.MEMBER_STATE


@PROPERTY
@given(scripts)
def test_nothing_is_accepted_after_a_case_is_closed(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        if isinstance(accepted.before, CaseState):
            assert accepted.before.status != "closed"
    for stream_id in run.log:
        events = run.events_of(stream_id)
        closed = [i for i, e in enumerate(events) if isinstance(e, CaseClosed)]
        assert closed in ([], [len(events) - 1])


@PROPERTY
@given(scripts)
def test_no_sanction_or_prosecution_without_an_earlier_substantiated_finding(script) -> None:
    run = play(script)

    for stream_id in run.log:
        substantiated = False
        for event in run.events_of(stream_id):
            if isinstance(event, SanctionImposed | ProsecutionConcluded):
                assert substantiated
            if isinstance(event, InvestigationConcluded):
                substantiated |= event.finding is Finding.SUBSTANTIATED


@PROPERTY
@given(scripts)
def test_accepted_events_are_dated_between_the_report_and_now(script) -> None:
    run = play(script)

    for accepted in run.accepted:
        at = accepted.command.occurred_at
        assert at <= NOW + CLOCK_SKEW
        if isinstance(accepted.before, CaseState) and accepted.before.received_at is not None:
            assert at >= accepted.before.received_at


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
