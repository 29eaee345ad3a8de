"""Deciding a correction or a retraction of an earlier event of the same stream.

The corrected event stays as recorded, hash and all; the decider answers with an
``EventCorrected`` that carries the whole payload as it should have been (checked
against the same value rules as the command that recorded it) or an
``EventRetracted``. The stream's state is then folded again from the events in force.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from .case import CaseState
from .catalogue import (
    AllegationReported,
    AllegedPerpetratorIdentified,
    CaseNoteAdded,
    CasePublished,
    CriminalReferralMade,
    Event,
    EventCorrected,
    EventRetracted,
    InterimActionTaken,
    InvestigationConcluded,
    InvestigationOpened,
    NarrativeRecorded,
    PaternityClaimFiled,
    PersonnelRepatriated,
    ProsecutionConcluded,
    SanctionImposed,
    SigningKeyRegistered,
    SigningKeyRevoked,
    TrustFundContributionMade,
    VictimAssistanceProvided,
    VictimDataErased,
)
from .codec import canonical_json, to_json_object
from .commands import STATE_STREAM_PREFIX, Actor, CommandEnvelope, CorrectEvent, RetractEvent
from .errors import DecodeError, Rejection
from .history import Recorded, decode_corrected
from .member_state import MemberStateRecord
from .rules import (
    ENTITY_NAME_LIMIT,
    OFFICER_OR_STATE,
    REFERENCE_LIMIT,
    Rule,
    ensure_assistance_kinds,
    ensure_case_in_scope,
    ensure_changes_something,
    ensure_correctable,
    ensure_date_precision,
    ensure_incident_not_after_receipt,
    ensure_investigation_names_state,
    ensure_known_country,
    ensure_mission_of_entity,
    ensure_months_fit,
    ensure_no_dependents,
    ensure_not_before,
    ensure_not_in_future,
    ensure_own_state,
    ensure_positive,
    ensure_reason,
    ensure_recorded_by,
    ensure_role,
    ensure_same_identity,
    ensure_sentence_fits,
    ensure_signed,
    ensure_text,
)
from .types import CountryCode
from .vocabulary import Role, SanctionAuthority

_COPIES_NATIONALITY = (
    InterimActionTaken,
    PersonnelRepatriated,
    SanctionImposed,
    CriminalReferralMade,
    ProsecutionConcluded,
    PaternityClaimFiled,
)


def decide_correction(
    state: CaseState | MemberStateRecord, envelope: CommandEnvelope, now: datetime
) -> list[Event]:
    command, actor = envelope.command, envelope.actor
    if not isinstance(command, CorrectEvent | RetractEvent):
        raise TypeError(f"{envelope.type} is neither a correction nor a retraction")
    ensure_role(actor, OFFICER_OR_STATE, "correcting or retracting an event")
    _ensure_stream_in_scope(actor, state, command)
    if isinstance(state, MemberStateRecord) and actor.role is Role.MEMBER_STATE:
        ensure_signed(state, command.stream.removeprefix(STATE_STREAM_PREFIX), envelope)
    target = ensure_correctable(state.history, command.event_id)
    _ensure_may_change(target, command)
    ensure_recorded_by(actor, target)
    ensure_reason(command.reason)
    if isinstance(command, RetractEvent):
        ensure_no_dependents(state.history, target)
        return [EventRetracted(target.event_id, command.reason)]
    corrected = _decode(target, command.corrected_payload)
    corrected_at = _instant(command.corrected_occurred_at, now)
    # Without a corrected instant, the one recorded is right: the latest correction is
    # the whole event as it should have been.
    occurred_at = corrected_at or target.envelope.occurred_at
    ensure_same_identity(target.payload, corrected)
    with _within_corrected_payload():
        _ensure_valid(state, corrected, occurred_at, actor)
    _ensure_in_order(state, target, corrected_at)
    ensure_changes_something(target, corrected, occurred_at)
    return [
        EventCorrected(
            target.event_id,
            canonical_json(to_json_object(corrected)).decode("utf-8"),
            corrected_at,
            command.reason,
            type(corrected).schema_version,
        )
    ]


# Facts no correction may touch: an erasure cannot be undone, and a key's history is what
# signatures are checked against (a key is revoked, never retracted).
_FINAL = (VictimDataErased, SigningKeyRegistered, SigningKeyRevoked)


def _ensure_may_change(target: Recorded, command: CorrectEvent | RetractEvent) -> None:
    payload = target.envelope.payload
    if isinstance(payload, _FINAL):
        raise Rejection(
            Rule.EVENT_NOT_CORRECTABLE,
            f"event '{target.event_id}' is a {target.envelope.type}, which stands as recorded"
            + ("; revoke the key instead" if isinstance(payload, SigningKeyRegistered) else ""),
            "event_id",
        )
    if isinstance(command, CorrectEvent) and isinstance(payload, NarrativeRecorded | CaseNoteAdded):
        # A corrected text would travel in clear inside corrected_payload: record it anew.
        raise Rejection(
            Rule.EVENT_NOT_CORRECTABLE,
            f"event '{target.event_id}' holds sealed text; record a new narrative or note (and "
            "retract this one) instead of correcting it",
            "event_id",
        )


def _ensure_stream_in_scope(
    actor: Actor, state: CaseState | MemberStateRecord, command: CorrectEvent | RetractEvent
) -> None:
    """A Member State corrects only on cases of its nationals and on its own stream."""
    if isinstance(state, CaseState):
        ensure_case_in_scope(actor, state, "stream")
    else:
        ensure_own_state(actor, CountryCode(command.stream.removeprefix(STATE_STREAM_PREFIX)),
                         "stream")  # fmt: skip


def _decode(target: Recorded, corrected_payload: str) -> Event:
    try:
        return decode_corrected(target.payload, corrected_payload)
    except DecodeError as exc:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"corrected_payload is not a payload of {target.envelope.type}: {exc}",
            "corrected_payload",
        ) from None


def _instant(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"corrected_occurred_at {value.isoformat()} has no time zone",
            "corrected_occurred_at",
        )
    ensure_not_in_future(value, now, "corrected_occurred_at")
    return value.astimezone(UTC)


@contextmanager
def _within_corrected_payload() -> Iterator[None]:
    """A value rule broken inside the payload is named as a fault of ``corrected_payload``."""
    try:
        yield
    except Rejection as rejection:
        raise Rejection(
            rejection.code,
            f"corrected_payload.{rejection.field}: {rejection.message}",
            "corrected_payload",
        ) from None


def _ensure_valid(
    state: CaseState | MemberStateRecord, corrected: Event, at: datetime, actor: Actor
) -> None:
    """The corrected payload keeps the value rules of the command that records its type."""
    match corrected:
        case AllegationReported() as e:
            ensure_mission_of_entity(e.entity, e.mission)
            ensure_text(e.entity_name, "entity_name", ENTITY_NAME_LIMIT)
            ensure_date_precision(e.incident_date, e.incident_date_precision)
            ensure_incident_not_after_receipt(e.incident_date, at)
        case AllegedPerpetratorIdentified() as e:
            ensure_known_country(e.nationality, "nationality")
        case InvestigationOpened() as e:
            ensure_investigation_names_state(e.entity, e.member_state)
        case InvestigationConcluded() as e:
            if e.days_taken < 0:
                raise Rejection(
                    Rule.INVALID_VALUE, f"days_taken must not be negative, not {e.days_taken}",
                    "days_taken",
                )  # fmt: skip
        case SanctionImposed() as e:
            if (
                actor.role is Role.MEMBER_STATE
                and e.imposed_by is not SanctionAuthority.MEMBER_STATE
            ):
                raise Rejection(
                    Rule.FORBIDDEN_MEMBER_STATE,
                    "a Member State records only the sanctions it imposed itself",
                    "imposed_by",
                )
            ensure_months_fit(e.kind, e.months)
        case ProsecutionConcluded() as e:
            ensure_sentence_fits(e.outcome, e.sentence_months)
        case CasePublished() as e:
            ensure_text(e.reference, "reference", REFERENCE_LIMIT)
        case VictimAssistanceProvided() as e:
            ensure_assistance_kinds(e.kinds)
        case TrustFundContributionMade() as e:
            ensure_positive(e.amount_usd, "amount_usd")
    if isinstance(state, CaseState):
        _ensure_fits_case(state, corrected)


def _ensure_fits_case(state: CaseState, corrected: Event) -> None:
    """What the decider copied into an event from the case still matches the case."""
    if isinstance(corrected, InvestigationConcluded):
        opened = state.investigations.get(corrected.investigation_id)
        if opened is not None and opened.entity is not corrected.entity:
            raise Rejection(
                Rule.INVALID_VALUE,
                f"investigation '{opened.investigation_id}' was opened by "
                f"{opened.entity.value}, not {corrected.entity.value}",
                "entity",
            )
    if isinstance(corrected, _COPIES_NATIONALITY):
        _ensure_nationality_copied(state, corrected)


def _ensure_nationality_copied(
    state: CaseState,
    corrected: InterimActionTaken
    | PersonnelRepatriated
    | SanctionImposed
    | CriminalReferralMade
    | ProsecutionConcluded
    | PaternityClaimFiled,
) -> None:
    """member_state on a perpetrator's event is the perpetrator's nationality in force."""
    pid = corrected.perpetrator_id
    if pid is None:
        if corrected.member_state is not None:
            raise Rejection(
                Rule.INVALID_VALUE,
                "a claim that names no perpetrator names no member_state",
                "member_state",
            )
        return
    perpetrator = state.perpetrators.get(pid)
    if perpetrator is not None and corrected.member_state != perpetrator.nationality:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"member_state is the nationality of perpetrator '{pid}', {perpetrator.nationality}",
            "member_state",
        )


def _ensure_in_order(
    state: CaseState | MemberStateRecord, target: Recorded, corrected_at: datetime | None
) -> None:
    """A corrected instant keeps the receipt of the allegation first in its case."""
    if corrected_at is None or not isinstance(state, CaseState):
        return
    if isinstance(target.payload, AllegationReported):
        others = [
            r.occurred_at
            for r in state.history.records.values()
            if r.in_force and r.event_id != target.event_id
        ]
        first = min(others, default=None)
        if first is not None and corrected_at > first:
            raise Rejection(
                Rule.OUT_OF_ORDER,
                f"corrected_occurred_at {corrected_at.isoformat()} is after the case's first "
                f"recorded event ({first.isoformat()})",
                "corrected_occurred_at",
            )
        return
    ensure_not_before(
        corrected_at, state.received_at, "the allegation was received", "corrected_occurred_at"
    )
