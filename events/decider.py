"""``decide(state, command) -> events`` and ``evolve(state, event) -> state``.

Pure functions: the decider sees one stream's state and one command, and either
returns the events that record what happened or raises a :class:`Rejection` that
names the rule. The order of the world and the Member State scope are enforced
here and nowhere else; corrections and retractions are decided in ``corrections.py``.
"""

from collections.abc import Iterable
from datetime import datetime

from .case import CaseState, FollowUp, evolve_case
from .catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseClosed,
    CaseNoteAdded,
    CasePublished,
    CaseReopened,
    ChildSupportArranged,
    CircleOfLeadershipJoined,
    CriminalReferralMade,
    Event,
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
    SigningKeyRegistered,
    SigningKeyRevoked,
    TrustFundContributionMade,
    VictimAssistanceProvided,
    VictimDataErased,
    VictimRecorded,
    VoluntaryCompactSigned,
)
from .commands import (
    CASE_STREAM_PREFIX,
    STATE_STREAM_PREFIX,
    Actor,
    AddCaseNote,
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
    StateCommand,
    TakeInterimAction,
)
from .corrections import decide_correction
from .envelope import Envelope
from .errors import Rejection
from .member_state import MemberStateRecord, evolve_member_state
from .rules import (
    ENTITY_NAME_LIMIT,
    OFFICER,
    OFFICER_OR_STATE,
    REFERENCE_LIMIT,
    STATE_ONLY,
    Rule,
    ensure_assistance_kinds,
    ensure_case_in_scope,
    ensure_claim,
    ensure_closed,
    ensure_date_precision,
    ensure_identifier,
    ensure_incident_not_after_receipt,
    ensure_investigation,
    ensure_investigation_names_state,
    ensure_involved,
    ensure_known_country,
    ensure_mission_of_entity,
    ensure_months_fit,
    ensure_not_before,
    ensure_not_declined,
    ensure_not_erased,
    ensure_not_in_future,
    ensure_not_referred,
    ensure_not_withdrawn,
    ensure_notified,
    ensure_open,
    ensure_own_state,
    ensure_perpetrator,
    ensure_positive,
    ensure_prosecution_basis,
    ensure_reported,
    ensure_role,
    ensure_sealed,
    ensure_sentence_fits,
    ensure_signed,
    ensure_substantiated,
    ensure_text,
    ensure_victim,
    ensure_victim_number,
    next_identifier,
)
from .signing import KeyFormatError, b64, key_id_of, parse_public_key
from .types import CountryCode, StreamId
from .vocabulary import Role, SanctionAuthority

StreamState = CaseState | MemberStateRecord

# Commands that a closed case still takes: publication and erasure are about the record,
# not the case's progress. (Corrections and retractions are taken on any case.)
_ON_CLOSED_CASES = (ReopenCase, PublishCase, EraseVictimData)


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
    if isinstance(command, CorrectEvent | RetractEvent):
        return decide_correction(state, envelope, now)
    if isinstance(command, StateCommand):
        if not isinstance(state, MemberStateRecord):
            raise Rejection(Rule.INVALID_VALUE, f"{envelope.type} belongs on a Member State stream")
        return [_decide_on_state(state, command, envelope)]
    if not isinstance(state, CaseState):
        raise Rejection(Rule.INVALID_VALUE, f"{envelope.type} belongs on a case stream")
    if isinstance(command, ReportAllegation):
        return [_report(state, command, envelope)]
    ensure_identifier(command.case_id, "case_id")
    if isinstance(command, EraseVictimData):
        return [_erase(state, command, envelope)]
    ensure_reported(state, command.case_id)
    ensure_case_in_scope(actor, state)
    if not isinstance(command, _ON_CLOSED_CASES):
        ensure_open(state)
    ensure_not_before(envelope.occurred_at, state.received_at, "the allegation was received")
    return [_decide_on_case(state, envelope)]


def _decide_on_case(state: CaseState, envelope: CommandEnvelope) -> Event:
    command, actor, at = envelope.command, envelope.actor, envelope.occurred_at
    match command:
        case IdentifyAllegedPerpetrator():
            return _identify(state, command, actor)
        case RecordVictim():
            ensure_role(actor, OFFICER, "recording a victim")
            if command.victim_id is not None:
                ensure_victim_number(command.victim_id)
            vid = _identifier(command.victim_id, "V", state.history.taken("victim"), "victim_id")
            if vid in state.history.taken("victim"):
                raise Rejection(
                    Rule.DUPLICATE_VICTIM, f"victim '{vid}' is already recorded", "victim_id"
                )
            return VictimRecorded(vid, command.age_group, command.sex)
        case NotifyMemberState():
            ensure_role(actor, OFFICER, "notifying a Member State")
            ms = ensure_known_country(command.member_state, "member_state")
            ensure_involved(state, ms, "member_state")
            if ms in state.follow_ups:
                raise Rejection(
                    Rule.ALREADY_NOTIFIED, f"{ms} was already notified of this case", "member_state"
                )
            return MemberStateNotified(ms, command.nio_requested)
        case ReplyIntentToInvestigate() | DeclineToInvestigate():
            return _reply(state, command, actor, at)
        case AppointNationalInvestigationOfficer():
            ensure_role(actor, OFFICER_OR_STATE, "appointing a National Investigation Officer")
            follow_up = _own_follow_up(state, command.member_state, actor, at)
            ensure_not_declined(follow_up, "member_state")
            if follow_up.nio_appointed_at is not None:
                raise Rejection(
                    Rule.ALREADY_APPOINTED,
                    f"{follow_up.member_state} already appointed a National Investigation Officer",
                    "member_state",
                )
            return NationalInvestigationOfficerAppointed(follow_up.member_state)
        case OpenInvestigation():
            return _open_investigation(state, command, actor, at)
        case ConcludeInvestigation():
            return _conclude_investigation(state, command, actor, at)
        case TakeInterimAction():
            ensure_role(actor, OFFICER_OR_STATE, "recording an interim action")
            perpetrator = ensure_perpetrator(state, command.perpetrator_id)
            ensure_own_state(actor, perpetrator.nationality, "perpetrator_id")
            return InterimActionTaken(
                perpetrator.perpetrator_id, perpetrator.nationality, command.action
            )
        case RepatriatePersonnel():
            return _repatriate(state, command, actor)
        case ImposeSanction():
            return _impose_sanction(state, command, actor, at)
        case MakeCriminalReferral():
            ensure_role(actor, OFFICER_OR_STATE, "recording a criminal referral")
            perpetrator = ensure_perpetrator(state, command.perpetrator_id)
            ensure_own_state(actor, perpetrator.nationality, "perpetrator_id")
            ensure_substantiated(state, perpetrator, at, "a criminal referral")
            ensure_not_referred(state, perpetrator)
            return CriminalReferralMade(perpetrator.perpetrator_id, perpetrator.nationality)
        case ConcludeProsecution():
            return _conclude_prosecution(state, command, actor, at)
        case RequestFollowUp():
            ensure_role(actor, OFFICER, "requesting a follow-up")
            ms = ensure_known_country(command.member_state, "member_state")
            follow_up = ensure_notified(state, ms, "member_state")
            ensure_not_before(at, follow_up.notified_at, f"{ms} was notified")
            return FollowUpRequested(ms)
        case PublishCase():
            ensure_role(actor, OFFICER, "publishing a case")
            ensure_text(command.reference, "reference", REFERENCE_LIMIT)
            if state.published_at is not None:
                raise Rejection(
                    Rule.ALREADY_PUBLISHED,
                    f"case {state.case_id} was published on {state.published_at.date()}",
                    "case_id",
                )
            return CasePublished(command.reference)
        case CloseCase():
            ensure_role(actor, OFFICER, "closing a case")
            return CaseClosed(command.reason)
        case ReopenCase():
            ensure_role(actor, OFFICER, "reopening a case")
            ensure_not_before(at, ensure_closed(state), "the case was closed")
            return CaseReopened(command.reason)
        case FilePaternityClaim():
            return _file_paternity_claim(state, command, actor)
        case EstablishPaternity() | ArrangeChildSupport():
            return _paternity_follow_up(state, command, actor, at)
        case ProvideVictimAssistance():
            ensure_role(actor, OFFICER, "recording assistance to a victim")
            victim = ensure_victim(state, command.victim_id)
            ensure_assistance_kinds(command.kinds)
            return VictimAssistanceProvided(victim.victim_id, command.kinds)
        case RecordNarrative():
            ensure_role(actor, OFFICER, "recording a narrative")
            ensure_sealed(state, command.text)
            return NarrativeRecorded(command.text)
        case AddCaseNote():
            ensure_role(actor, OFFICER, "adding a note to a case")
            nid = _identifier(command.note_id, "N", state.history.taken("note"), "note_id")
            if nid in state.history.taken("note"):
                raise Rejection(Rule.DUPLICATE_NOTE, f"note '{nid}' is already recorded", "note_id")
            ensure_sealed(state, command.text)
            return CaseNoteAdded(nid, command.text)
        case _:
            raise Rejection(Rule.INVALID_VALUE, f"{envelope.type} is not a command on a case")


def _identifier(given: str | None, prefix: str, taken: Iterable[str], field: str) -> str:
    """The id a command names, or the next free one when it names none (not when empty).

    Ids of retracted events stay taken, so that no id ever names two things.
    """
    if given is None:
        return next_identifier(prefix, set(taken))
    return ensure_identifier(given, field)


def _report(
    state: CaseState, command: ReportAllegation, envelope: CommandEnvelope
) -> AllegationReported:
    ensure_role(envelope.actor, OFFICER, "reporting an allegation")
    ensure_identifier(command.case_id, "case_id")
    ensure_not_withdrawn(state, command.case_id)
    if state.reported:
        raise Rejection(
            Rule.CASE_ALREADY_REPORTED, f"case '{command.case_id}' was already reported", "case_id"
        )
    ensure_mission_of_entity(command.entity, command.mission)
    ensure_text(command.entity_name, "entity_name", ENTITY_NAME_LIMIT)
    ensure_incident_not_after_receipt(command.incident_date, envelope.occurred_at)
    precision = ensure_date_precision(command.incident_date, command.incident_date_precision)
    return AllegationReported(
        case_id=command.case_id,
        allegation_type=command.allegation_type,
        entity=command.entity,
        entity_name=command.entity_name,
        mission=command.mission,
        incident_date=command.incident_date,
        incident_date_precision=precision,
    )


def _erase(state: CaseState, command: EraseVictimData, envelope: CommandEnvelope) -> Event:
    """Erasure is taken on closed and withdrawn cases too: a victim's data outlives neither."""
    if not state.reported and not state.withdrawn:
        ensure_reported(state, command.case_id)
    ensure_case_in_scope(envelope.actor, state)
    ensure_role(envelope.actor, OFFICER, "erasing a case's victim data")
    ensure_not_erased(state)
    ensure_not_before(envelope.occurred_at, state.received_at, "the allegation was received")
    return VictimDataErased(state.text_key_id, command.reason)


def _identify(
    state: CaseState, command: IdentifyAllegedPerpetrator, actor: Actor
) -> AllegedPerpetratorIdentified:
    ensure_role(actor, OFFICER, "identifying an alleged perpetrator")
    nationality = ensure_known_country(command.nationality, "nationality")
    taken = state.history.taken("perpetrator")
    pid = _identifier(command.perpetrator_id, "P", taken, "perpetrator_id")
    if pid in taken:
        raise Rejection(
            Rule.DUPLICATE_PERPETRATOR, f"perpetrator '{pid}' is already recorded",
            "perpetrator_id",
        )  # fmt: skip
    return AllegedPerpetratorIdentified(pid, command.category, nationality, command.sex)


def _own_follow_up(state: CaseState, member_state: str, actor: Actor, at: datetime) -> FollowUp:
    """The follow-up of a notified state that acts for itself, after its notification."""
    ms = ensure_known_country(member_state, "member_state")
    ensure_own_state(actor, ms, "member_state")
    follow_up = ensure_notified(state, ms, "member_state")
    ensure_not_before(at, follow_up.notified_at, f"{ms} was notified")
    return follow_up


def _reply(
    state: CaseState,
    command: ReplyIntentToInvestigate | DeclineToInvestigate,
    actor: Actor,
    at: datetime,
) -> Event:
    ensure_role(actor, OFFICER_OR_STATE, "recording a Member State's reply")
    ms = ensure_known_country(command.member_state, "member_state")
    ensure_own_state(actor, ms, "member_state")
    follow_up = ensure_notified(state, ms, "member_state")
    if follow_up.reply is not None:
        raise Rejection(
            Rule.ALREADY_REPLIED, f"{ms} already replied ({follow_up.reply})", "member_state"
        )
    ensure_not_before(at, follow_up.notified_at, f"{ms} was notified")
    if isinstance(command, ReplyIntentToInvestigate):
        return MemberStateRepliedIntentToInvestigate(ms)
    _ensure_not_investigating(state, follow_up)
    return MemberStateDeclinedToInvestigate(ms)


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


def _open_investigation(
    state: CaseState, command: OpenInvestigation, actor: Actor, at: datetime
) -> InvestigationOpened:
    if command.entity.national:
        ensure_role(actor, OFFICER_OR_STATE, "opening a national investigation")
    else:
        ensure_role(actor, OFFICER, "opening a UN investigation")
    taken = state.history.taken("investigation")
    iid = _identifier(command.investigation_id, "I", taken, "investigation_id")
    if iid in taken:
        raise Rejection(
            Rule.DUPLICATE_INVESTIGATION, f"investigation '{iid}' already exists",
            "investigation_id",
        )  # fmt: skip
    ensure_investigation_names_state(command.entity, command.member_state)
    if command.member_state is None:
        return InvestigationOpened(iid, command.entity, None, command.urgent)
    follow_up = _own_follow_up(state, command.member_state, actor, at)
    ensure_not_declined(follow_up, "member_state")
    return InvestigationOpened(iid, command.entity, follow_up.member_state, command.urgent)


def _conclude_investigation(
    state: CaseState, command: ConcludeInvestigation, actor: Actor, at: datetime
) -> InvestigationConcluded:
    ensure_role(actor, OFFICER_OR_STATE, "concluding an investigation")
    investigation = ensure_investigation(state, command.investigation_id)
    if investigation.entity.national:
        ensure_own_state(actor, investigation.member_state, "investigation_id")
    else:
        ensure_role(actor, OFFICER, "concluding a UN investigation")
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


def _repatriate(
    state: CaseState, command: RepatriatePersonnel, actor: Actor
) -> PersonnelRepatriated:
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
    return PersonnelRepatriated(
        perpetrator.perpetrator_id, perpetrator.nationality, command.disciplinary
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
    ensure_months_fit(command.kind, command.months)
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
    ensure_prosecution_basis(state, perpetrator, at)
    if perpetrator.perpetrator_id in state.prosecuted:
        raise Rejection(
            Rule.ALREADY_PROSECUTED,
            f"the prosecution of '{perpetrator.perpetrator_id}' was already concluded",
            "perpetrator_id",
        )
    ensure_sentence_fits(command.outcome, command.sentence_months)
    return ProsecutionConcluded(
        perpetrator.perpetrator_id,
        perpetrator.nationality,
        command.outcome,
        command.sentence_months,
    )


def _file_paternity_claim(
    state: CaseState, command: FilePaternityClaim, actor: Actor
) -> PaternityClaimFiled:
    if command.perpetrator_id is None:
        ensure_role(actor, OFFICER, "filing a paternity claim that names no perpetrator")
    else:
        ensure_role(actor, OFFICER_OR_STATE, "filing a paternity claim")
    taken = state.history.taken("claim")
    cid = _identifier(command.claim_id, "C", taken, "claim_id")
    if cid in taken:
        raise Rejection(
            Rule.DUPLICATE_CLAIM, f"paternity claim '{cid}' is already recorded", "claim_id"
        )
    if command.perpetrator_id is None:
        return PaternityClaimFiled(cid, None, None)
    perpetrator = ensure_perpetrator(state, command.perpetrator_id)
    ensure_own_state(actor, perpetrator.nationality, "perpetrator_id")
    return PaternityClaimFiled(cid, perpetrator.perpetrator_id, perpetrator.nationality)


def _paternity_follow_up(
    state: CaseState,
    command: EstablishPaternity | ArrangeChildSupport,
    actor: Actor,
    at: datetime,
) -> Event:
    ensure_role(actor, OFFICER_OR_STATE, "recording the outcome of a paternity claim")
    claim = ensure_claim(state, command.claim_id)
    ensure_own_state(actor, claim.member_state, "claim_id")
    if isinstance(command, EstablishPaternity):
        if claim.established_at is not None:
            raise Rejection(
                Rule.PATERNITY_ALREADY_ESTABLISHED,
                f"paternity in claim '{claim.claim_id}' was established on "
                f"{claim.established_at.date()}",
                "claim_id",
            )
        ensure_not_before(at, claim.filed_at, "the claim was filed")
        return PaternityEstablished(claim.claim_id)
    if claim.established_at is None:
        raise Rejection(
            Rule.PATERNITY_NOT_ESTABLISHED,
            f"child support in claim '{claim.claim_id}' follows the establishment of paternity",
            "claim_id",
        )
    if claim.support_arranged_at is not None:
        raise Rejection(
            Rule.CHILD_SUPPORT_ALREADY_ARRANGED,
            f"child support in claim '{claim.claim_id}' was arranged on "
            f"{claim.support_arranged_at.date()}",
            "claim_id",
        )
    ensure_not_before(at, claim.established_at, "paternity was established")
    return ChildSupportArranged(claim.claim_id)


_COMMITMENTS: dict[type[StateCommand], str] = {
    SignVoluntaryCompact: "recording a Voluntary Compact",
    JoinCircleOfLeadership: "recording a membership of the Circle of Leadership",
    ContributeToTrustFund: "recording a Trust Fund contribution",
    DesignateFocalPoint: "designating a focal point",
}
_KEY_COMMANDS: dict[type[StateCommand], str] = {
    RegisterSigningKey: "registering a Member State's signing key",
    RevokeSigningKey: "revoking a Member State's signing key",
}


def _decide_on_state(
    state: MemberStateRecord, command: StateCommand, envelope: CommandEnvelope
) -> Event:
    actor = envelope.actor
    if type(command) in _KEY_COMMANDS:
        ensure_role(actor, STATE_ONLY, _KEY_COMMANDS[type(command)])
    else:
        action = _COMMITMENTS.get(type(command), "recording a commitment")
        ensure_role(actor, OFFICER_OR_STATE, action)
    ms = ensure_known_country(command.member_state, "member_state")
    ensure_own_state(actor, ms, "member_state")
    if actor.role is Role.MEMBER_STATE:
        # This stream holds the state's keys: its own submissions here are checked in full.
        ensure_signed(state, ms, envelope, may_bootstrap=isinstance(command, RegisterSigningKey))
    match command:
        case SignVoluntaryCompact():
            if state.compact_signed_at is not None:
                raise Rejection(
                    Rule.ALREADY_SIGNED,
                    f"{ms} signed the Voluntary Compact on {state.compact_signed_at.date()}",
                    "member_state",
                )
            return VoluntaryCompactSigned(ms)
        case JoinCircleOfLeadership():
            if state.circle_joined_at is not None:
                raise Rejection(
                    Rule.ALREADY_JOINED,
                    f"{ms} joined the Circle of Leadership on {state.circle_joined_at.date()}",
                    "member_state",
                )
            return CircleOfLeadershipJoined(ms)
        case ContributeToTrustFund():
            ensure_positive(command.amount_usd, "amount_usd")
            return TrustFundContributionMade(ms, command.amount_usd)
        case DesignateFocalPoint():
            # A new designation replaces the focal point in office for the role.
            return FocalPointDesignated(ms, command.role)
        case RegisterSigningKey():
            return _register_key(state, ms, command)
        case RevokeSigningKey():
            key = state.signing_keys.get(command.key_id)
            if key is None:
                raise Rejection(
                    Rule.UNKNOWN_SIGNING_KEY, f"{ms} has no signing key {command.key_id}",
                    "key_id",
                )  # fmt: skip
            if key.revoked_at is not None:
                raise Rejection(
                    Rule.SIGNING_KEY_REVOKED,
                    f"key {key.key_id} of {ms} was revoked on {key.revoked_at.date()}",
                    "key_id",
                )
            return SigningKeyRevoked(ms, key.key_id)
        case _:
            raise Rejection(Rule.INVALID_VALUE, f"{type(command).__name__} is not a commitment")


def _register_key(
    state: MemberStateRecord, ms: CountryCode, command: RegisterSigningKey
) -> SigningKeyRegistered:
    try:
        raw = parse_public_key(command.public_key)
    except KeyFormatError as exc:
        raise Rejection(Rule.INVALID_VALUE, f"public_key: {exc}", "public_key") from None
    key_id = key_id_of(raw)
    known = state.signing_keys.get(key_id)
    if known is not None:
        raise Rejection(
            Rule.SIGNING_KEY_ALREADY_REGISTERED,
            f"key {key_id} was registered by {ms} on {known.registered_at.date()}"
            + (f" and revoked on {known.revoked_at.date()}" if known.revoked_at else "")
            + "; a key is registered once",
            "public_key",
        )
    return SigningKeyRegistered(ms, key_id, b64(raw))
