"""``decide(state, command) -> events`` and ``evolve(state, event) -> state``.

Pure functions: the decider sees one stream's state and one command, and either
returns the events that record what happened or raises a :class:`Rejection` that
names the rule. The order of the world and the Member State scope are enforced
here and nowhere else.
"""

from collections.abc import Iterable
from datetime import datetime

from .case import CaseState, FollowUp, evolve_case
from .catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    Event,
    InvestigationConcluded,
    InvestigationOpened,
    MemberStateDeclinedToInvestigate,
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    NationalInvestigationOfficerAppointed,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    VictimRecorded,
    VoluntaryCompactSigned,
)
from .commands import (
    CASE_STREAM_PREFIX,
    STATE_STREAM_PREFIX,
    Actor,
    AppointNationalInvestigationOfficer,
    CloseCase,
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
from .envelope import Envelope
from .errors import Rejection
from .member_state import MemberStateRecord, evolve_member_state
from .rules import (
    Rule,
    ensure_case_in_scope,
    ensure_identifier,
    ensure_investigation,
    ensure_involved,
    ensure_known_country,
    ensure_known_mission,
    ensure_not_before,
    ensure_not_declined,
    ensure_not_in_future,
    ensure_notified,
    ensure_open,
    ensure_own_state,
    ensure_perpetrator,
    ensure_positive,
    ensure_reported,
    ensure_role,
    ensure_substantiated,
    next_identifier,
)
from .types import StreamId
from .vocabulary import (
    InvestigatingEntity,
    ProsecutionOutcome,
    Role,
    SanctionAuthority,
    SanctionKind,
)

StreamState = CaseState | MemberStateRecord

OFFICER = frozenset({Role.OFFICER})
OFFICER_OR_STATE = frozenset({Role.OFFICER, Role.MEMBER_STATE})
_NEEDS_MONTHS = frozenset({SanctionKind.IMPRISONMENT, SanctionKind.SUSPENSION})


def initial_state(stream_id: StreamId) -> StreamState:
    if stream_id.startswith(CASE_STREAM_PREFIX):
        return CaseState()
    if stream_id.startswith(STATE_STREAM_PREFIX):
        return MemberStateRecord()
    raise ValueError(f"unknown kind of stream '{stream_id}'")


def evolve(state: StreamState, envelope: Envelope) -> StreamState:
    if isinstance(state, CaseState):
        return evolve_case(state, envelope)
    return evolve_member_state(state, envelope)


def fold(stream_id: StreamId, envelopes: Iterable[Envelope]) -> StreamState:
    state = initial_state(stream_id)
    for envelope in envelopes:
        state = evolve(state, envelope)
    return state


def is_duplicate(state: StreamState, command: CommandEnvelope) -> bool:
    """A command whose id already produced events in this stream is a retry."""
    return command.command_id in state.command_ids


def decide(state: StreamState, envelope: CommandEnvelope, now: datetime) -> list[Event]:
    """The events that record ``envelope``'s command, or a :class:`Rejection`."""
    ensure_not_in_future(envelope.occurred_at, now)
    command, actor = envelope.command, envelope.actor
    if isinstance(command, SignVoluntaryCompact):
        if not isinstance(state, MemberStateRecord):
            raise Rejection(Rule.INVALID_VALUE, "a Compact is signed on a Member State stream")
        return _sign_compact(state, command, actor)
    if not isinstance(state, CaseState):
        raise Rejection(Rule.INVALID_VALUE, f"{envelope.type} belongs on a case stream")
    if isinstance(command, ReportAllegation):
        return _report(state, command, envelope)
    ensure_identifier(command.case_id, "case_id")
    ensure_reported(state, command.case_id)
    ensure_case_in_scope(actor, state)
    ensure_open(state)
    ensure_not_before(envelope.occurred_at, state.received_at, "the allegation was received")
    return _decide_on_case(state, envelope)


def _decide_on_case(state: CaseState, envelope: CommandEnvelope) -> list[Event]:
    command, actor, at = envelope.command, envelope.actor, envelope.occurred_at
    match command:
        case IdentifyAllegedPerpetrator():
            ensure_role(actor, OFFICER, "identifying an alleged perpetrator")
            nationality = ensure_known_country(command.nationality, "nationality")
            pid = _identifier(
                command.perpetrator_id, "P", state.perpetrators.keys(), "perpetrator_id"
            )
            if pid in state.perpetrators:
                raise Rejection(
                    Rule.DUPLICATE_PERPETRATOR, f"perpetrator '{pid}' is already recorded",
                    "perpetrator_id",
                )  # fmt: skip
            return [AllegedPerpetratorIdentified(pid, command.category, nationality, command.sex)]
        case RecordVictim():
            ensure_role(actor, OFFICER, "recording a victim")
            vid = _identifier(command.victim_id, "V", state.victims.keys(), "victim_id")
            if vid in state.victims:
                raise Rejection(
                    Rule.DUPLICATE_VICTIM, f"victim '{vid}' is already recorded", "victim_id"
                )
            return [VictimRecorded(vid, command.age_group, command.sex)]
        case NotifyMemberState():
            ensure_role(actor, OFFICER, "notifying a Member State")
            ms = ensure_known_country(command.member_state, "member_state")
            ensure_involved(state, ms, "member_state")
            if ms in state.follow_ups:
                raise Rejection(
                    Rule.ALREADY_NOTIFIED, f"{ms} was already notified of this case", "member_state"
                )
            return [MemberStateNotified(ms, command.nio_requested)]
        case ReplyIntentToInvestigate() | DeclineToInvestigate():
            ensure_role(actor, OFFICER_OR_STATE, "recording a Member State's reply")
            ms = ensure_known_country(command.member_state, "member_state")
            ensure_own_state(actor, ms, "member_state")
            follow_up = ensure_notified(state, ms, "member_state")
            if follow_up.reply is not None:
                raise Rejection(
                    Rule.ALREADY_REPLIED, f"{ms} already replied ({follow_up.reply})",
                    "member_state",
                )  # fmt: skip
            ensure_not_before(at, follow_up.notified_at, f"{ms} was notified")
            if isinstance(command, ReplyIntentToInvestigate):
                return [MemberStateRepliedIntentToInvestigate(ms)]
            _ensure_not_investigating(state, follow_up)
            return [MemberStateDeclinedToInvestigate(ms)]
        case AppointNationalInvestigationOfficer():
            ensure_role(actor, OFFICER_OR_STATE, "appointing a National Investigation Officer")
            ms = ensure_known_country(command.member_state, "member_state")
            ensure_own_state(actor, ms, "member_state")
            follow_up = ensure_notified(state, ms, "member_state")
            ensure_not_declined(follow_up, "member_state")
            if follow_up.nio_appointed_at is not None:
                raise Rejection(
                    Rule.ALREADY_APPOINTED,
                    f"{ms} already appointed a National Investigation Officer",
                    "member_state",
                )
            ensure_not_before(at, follow_up.notified_at, f"{ms} was notified")
            return [NationalInvestigationOfficerAppointed(ms)]
        case OpenInvestigation():
            return [_open_investigation(state, command, envelope)]
        case ConcludeInvestigation():
            return [_conclude_investigation(state, command, envelope)]
        case RepatriatePersonnel():
            ensure_role(actor, OFFICER_OR_STATE, "recording a repatriation")
            perpetrator = ensure_perpetrator(state, command.perpetrator_id)
            ensure_own_state(actor, perpetrator.nationality, "perpetrator_id")
            if not perpetrator.category.uniformed:
                raise Rejection(
                    Rule.NOT_UNIFORMED,
                    f"perpetrator '{perpetrator.perpetrator_id}' is {perpetrator.category.label}; "
                    "only uniformed personnel are repatriated",
                    "perpetrator_id",
                )
            if perpetrator.perpetrator_id in state.repatriated:
                raise Rejection(
                    Rule.ALREADY_REPATRIATED,
                    f"perpetrator '{perpetrator.perpetrator_id}' was already repatriated",
                    "perpetrator_id",
                )
            return [
                PersonnelRepatriated(
                    perpetrator.perpetrator_id, perpetrator.nationality, command.disciplinary
                )
            ]
        case ImposeSanction():
            return [_impose_sanction(state, command, actor, at)]
        case ConcludeProsecution():
            return [_conclude_prosecution(state, command, actor, at)]
        case CloseCase():
            ensure_role(actor, OFFICER, "closing a case")
            return [CaseClosed(command.reason)]
        case _:
            raise Rejection(Rule.INVALID_VALUE, f"{envelope.type} is not a command on a case")


def _ensure_not_investigating(state: CaseState, follow_up: FollowUp) -> None:
    """A state that appointed an investigator or opened an investigation cannot decline."""
    ms = follow_up.member_state
    if follow_up.nio_appointed_at is not None or any(
        i.member_state == ms for i in state.investigations.values()
    ):
        raise Rejection(
            Rule.ALREADY_INVESTIGATING,
            f"{ms} already appointed an investigator or opened an investigation",
            "member_state",
        )


def _identifier(given: str | None, prefix: str, taken: Iterable[str], field: str) -> str:
    """The id a command names, or the next free one when it names none (not when empty)."""
    if given is None:
        return next_identifier(prefix, set(taken))
    return ensure_identifier(given, field)


def _report(state: CaseState, command: ReportAllegation, envelope: CommandEnvelope) -> list[Event]:
    ensure_role(envelope.actor, OFFICER, "reporting an allegation")
    ensure_identifier(command.case_id, "case_id")
    if state.reported:
        raise Rejection(
            Rule.CASE_ALREADY_REPORTED, f"case '{command.case_id}' was already reported", "case_id"
        )
    ensure_known_mission(command.mission, "mission")
    if command.incident_date is not None and command.incident_date > envelope.occurred_at.date():
        raise Rejection(
            Rule.OUT_OF_ORDER,
            f"incident_date {command.incident_date} is after the report was received "
            f"({envelope.occurred_at.date()})",
            "incident_date",
        )
    return [
        AllegationReported(
            command.case_id, command.allegation_type, command.mission, command.incident_date
        )
    ]


def _open_investigation(
    state: CaseState, command: OpenInvestigation, envelope: CommandEnvelope
) -> InvestigationOpened:
    actor, at = envelope.actor, envelope.occurred_at
    if command.entity is InvestigatingEntity.OIOS:
        ensure_role(actor, OFFICER, "opening a UN investigation")
    else:
        ensure_role(actor, OFFICER_OR_STATE, "opening a national investigation")
    iid = _identifier(
        command.investigation_id, "I", state.investigations.keys(), "investigation_id"
    )
    if iid in state.investigations:
        raise Rejection(
            Rule.DUPLICATE_INVESTIGATION, f"investigation '{iid}' already exists",
            "investigation_id",
        )  # fmt: skip
    if command.entity is InvestigatingEntity.OIOS:
        if command.member_state is not None:
            raise Rejection(
                Rule.INVALID_VALUE, "a UN (OIOS) investigation names no member_state",
                "member_state",
            )  # fmt: skip
        return InvestigationOpened(iid, command.entity, None, command.urgent)
    if command.member_state is None:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"a {command.entity.value} investigation names its member_state",
            "member_state",
        )
    ms = ensure_known_country(command.member_state, "member_state")
    ensure_own_state(actor, ms, "member_state")
    follow_up = ensure_notified(state, ms, "member_state")
    ensure_not_declined(follow_up, "member_state")
    ensure_not_before(at, follow_up.notified_at, f"{ms} was notified")
    return InvestigationOpened(iid, command.entity, ms, command.urgent)


def _conclude_investigation(
    state: CaseState, command: ConcludeInvestigation, envelope: CommandEnvelope
) -> InvestigationConcluded:
    actor, at = envelope.actor, envelope.occurred_at
    ensure_role(actor, OFFICER_OR_STATE, "concluding an investigation")
    investigation = ensure_investigation(state, command.investigation_id)
    if investigation.entity is InvestigatingEntity.OIOS:
        ensure_role(actor, OFFICER, "concluding a UN investigation")
    else:
        ensure_role(actor, OFFICER_OR_STATE, "concluding a national investigation")
        ensure_own_state(actor, investigation.member_state, "investigation_id")
    if investigation.concluded_at is not None:
        raise Rejection(
            Rule.INVESTIGATION_ALREADY_CONCLUDED,
            f"investigation '{investigation.investigation_id}' was concluded on "
            f"{investigation.concluded_at.date()}",
            "investigation_id",
        )
    ensure_not_before(at, investigation.opened_at, "the investigation was opened")
    return InvestigationConcluded(
        investigation.investigation_id,
        investigation.entity,
        investigation.member_state,
        command.finding,
        command.victims_interviewed,
        (at.date() - investigation.opened_at.date()).days,
    )


def _impose_sanction(
    state: CaseState, command: ImposeSanction, actor: Actor, at: datetime
) -> SanctionImposed:
    ensure_role(actor, OFFICER_OR_STATE, "recording a sanction")
    perpetrator = ensure_perpetrator(state, command.perpetrator_id)
    ensure_own_state(actor, perpetrator.nationality, "perpetrator_id")
    if actor.role is Role.MEMBER_STATE and command.imposed_by is not SanctionAuthority.MEMBER_STATE:
        raise Rejection(
            Rule.FORBIDDEN_MEMBER_STATE,
            "a Member State records only the sanctions it imposed itself",
            "imposed_by",
        )
    ensure_substantiated(state, perpetrator, at, "a sanction")
    ensure_positive(command.months, "months")
    if command.kind in _NEEDS_MONTHS and command.months is None:
        raise Rejection(
            Rule.MONTHS_REQUIRED, f"a sanction of {command.kind.value} needs its months", "months"
        )
    if command.kind not in _NEEDS_MONTHS and command.months is not None:
        raise Rejection(
            Rule.MONTHS_NOT_APPLICABLE,
            f"a sanction of {command.kind.value} has no months; only "
            f"{' and '.join(sorted(k.value for k in _NEEDS_MONTHS))} do",
            "months",
        )
    return SanctionImposed(
        perpetrator.perpetrator_id,
        perpetrator.nationality,
        command.imposed_by,
        command.kind,
        command.months,
    )


def _conclude_prosecution(
    state: CaseState, command: ConcludeProsecution, actor: Actor, at: datetime
) -> ProsecutionConcluded:
    ensure_role(actor, OFFICER_OR_STATE, "recording a prosecution outcome")
    perpetrator = ensure_perpetrator(state, command.perpetrator_id)
    ensure_own_state(actor, perpetrator.nationality, "perpetrator_id")
    ensure_substantiated(state, perpetrator, at, "a prosecution outcome")
    if perpetrator.perpetrator_id in state.prosecuted:
        raise Rejection(
            Rule.ALREADY_PROSECUTED,
            f"the prosecution of '{perpetrator.perpetrator_id}' was already concluded",
            "perpetrator_id",
        )
    ensure_positive(command.sentence_months, "sentence_months")
    if command.sentence_months is not None and command.outcome is not ProsecutionOutcome.CONVICTED:
        raise Rejection(
            Rule.SENTENCE_WITHOUT_CONVICTION,
            f"a prosecution that ended {command.outcome.value} carries no sentence",
            "sentence_months",
        )
    return ProsecutionConcluded(
        perpetrator.perpetrator_id,
        perpetrator.nationality,
        command.outcome,
        command.sentence_months,
    )


def _sign_compact(
    state: MemberStateRecord, command: SignVoluntaryCompact, actor: Actor
) -> list[Event]:
    ensure_role(actor, OFFICER_OR_STATE, "recording a Voluntary Compact")
    ms = ensure_known_country(command.member_state, "member_state")
    ensure_own_state(actor, ms, "member_state")
    if state.compact_signed_at is not None:
        raise Rejection(
            Rule.ALREADY_SIGNED,
            f"{ms} signed the Voluntary Compact on {state.compact_signed_at.date()}",
            "member_state",
        )
    return [VoluntaryCompactSigned(ms)]
