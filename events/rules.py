"""Named guards: each checks one rule of the world and raises a rejection naming it."""

import hashlib
import re
from collections import Counter
from collections.abc import Collection
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from .case import CaseState, FollowUp, Investigation, PaternityClaim, Perpetrator, Victim
from .catalogue import (
    CircleOfLeadershipJoined,
    Event,
    FocalPointDesignated,
    FollowUpRequested,
    InvestigationConcluded,
    InvestigationOpened,
    MemberStateDeclinedToInvestigate,
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    NationalInvestigationOfficerAppointed,
    TrustFundContributionMade,
    VoluntaryCompactSigned,
)
from .commands import Actor, CommandEnvelope
from .countries import COUNTRIES
from .errors import Rejection
from .history import History, Recorded
from .member_state import MemberStateRecord
from .missions import MISSIONS, MissionKind
from .privacy import MalformedSealedText, parse_sealed
from .signing import signature_verifies
from .types import CountryCode
from .vocabulary import (
    AssistanceKind,
    DatePrecision,
    EntityKind,
    InvestigatingEntity,
    ProsecutionOutcome,
    Role,
    SanctionKind,
)


class Rule(StrEnum):
    """Every rejection code the decider can answer with."""

    INVALID_VALUE = "INVALID_VALUE"
    INVALID_IDENTIFIER = "INVALID_IDENTIFIER"
    UNKNOWN_COUNTRY = "UNKNOWN_COUNTRY"
    UNKNOWN_MISSION = "UNKNOWN_MISSION"
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    CASE_ALREADY_REPORTED = "CASE_ALREADY_REPORTED"
    CASE_CLOSED = "CASE_CLOSED"
    FUTURE_DATE = "FUTURE_DATE"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    STATE_NOT_INVOLVED = "STATE_NOT_INVOLVED"
    ALREADY_NOTIFIED = "ALREADY_NOTIFIED"
    NOT_NOTIFIED = "NOT_NOTIFIED"
    ALREADY_REPLIED = "ALREADY_REPLIED"
    DECLINED_TO_INVESTIGATE = "DECLINED_TO_INVESTIGATE"
    ALREADY_INVESTIGATING = "ALREADY_INVESTIGATING"
    ALREADY_APPOINTED = "ALREADY_APPOINTED"
    DUPLICATE_PERPETRATOR = "DUPLICATE_PERPETRATOR"
    DUPLICATE_VICTIM = "DUPLICATE_VICTIM"
    UNKNOWN_PERPETRATOR = "UNKNOWN_PERPETRATOR"
    NOT_UNIFORMED = "NOT_UNIFORMED"
    ALREADY_REPATRIATED = "ALREADY_REPATRIATED"
    DUPLICATE_INVESTIGATION = "DUPLICATE_INVESTIGATION"
    UNKNOWN_INVESTIGATION = "UNKNOWN_INVESTIGATION"
    INVESTIGATION_ALREADY_CONCLUDED = "INVESTIGATION_ALREADY_CONCLUDED"
    NOT_SUBSTANTIATED = "NOT_SUBSTANTIATED"
    ALREADY_PROSECUTED = "ALREADY_PROSECUTED"
    MONTHS_REQUIRED = "MONTHS_REQUIRED"
    MONTHS_NOT_APPLICABLE = "MONTHS_NOT_APPLICABLE"
    SENTENCE_WITHOUT_CONVICTION = "SENTENCE_WITHOUT_CONVICTION"
    ALREADY_SIGNED = "ALREADY_SIGNED"
    FORBIDDEN_ROLE = "FORBIDDEN_ROLE"
    FORBIDDEN_MEMBER_STATE = "FORBIDDEN_MEMBER_STATE"
    CASE_WITHDRAWN = "CASE_WITHDRAWN"
    CASE_NOT_CLOSED = "CASE_NOT_CLOSED"
    ALREADY_PUBLISHED = "ALREADY_PUBLISHED"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    UNKNOWN_VICTIM = "UNKNOWN_VICTIM"
    DUPLICATE_CLAIM = "DUPLICATE_CLAIM"
    UNKNOWN_CLAIM = "UNKNOWN_CLAIM"
    PATERNITY_ALREADY_ESTABLISHED = "PATERNITY_ALREADY_ESTABLISHED"
    PATERNITY_NOT_ESTABLISHED = "PATERNITY_NOT_ESTABLISHED"
    CHILD_SUPPORT_ALREADY_ARRANGED = "CHILD_SUPPORT_ALREADY_ARRANGED"
    ALREADY_JOINED = "ALREADY_JOINED"
    UNKNOWN_EVENT = "UNKNOWN_EVENT"
    EVENT_NOT_CORRECTABLE = "EVENT_NOT_CORRECTABLE"
    ALREADY_RETRACTED = "ALREADY_RETRACTED"
    EVENT_HAS_DEPENDENTS = "EVENT_HAS_DEPENDENTS"
    CORRECTION_CHANGES_IDENTITY = "CORRECTION_CHANGES_IDENTITY"
    CORRECTION_CHANGES_NOTHING = "CORRECTION_CHANGES_NOTHING"
    TEXT_NOT_SEALED = "TEXT_NOT_SEALED"
    TEXT_KEY_MISMATCH = "TEXT_KEY_MISMATCH"
    VICTIM_DATA_ERASED = "VICTIM_DATA_ERASED"
    DUPLICATE_NOTE = "DUPLICATE_NOTE"
    SIGNING_KEY_ALREADY_REGISTERED = "SIGNING_KEY_ALREADY_REGISTERED"
    UNKNOWN_SIGNING_KEY = "UNKNOWN_SIGNING_KEY"
    SIGNING_KEY_REVOKED = "SIGNING_KEY_REVOKED"
    SIGNATURE_REQUIRED = "SIGNATURE_REQUIRED"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"


OFFICER: Final = frozenset({Role.OFFICER})
OFFICER_OR_STATE: Final = frozenset({Role.OFFICER, Role.MEMBER_STATE})
STATE_ONLY: Final = frozenset({Role.MEMBER_STATE})
"""What only a state may do for itself: an officer registering a state's key could sign as it."""


CLOCK_SKEW: Final = timedelta(minutes=5)
ENTITY_NAME_LIMIT: Final = 100
REFERENCE_LIMIT: Final = 64
_IDENTIFIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_VICTIM_NUMBER: Final = re.compile(r"V[1-9][0-9]{0,5}")


def ensure_identifier(value: str, field: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise Rejection(
            Rule.INVALID_IDENTIFIER,
            f"{field} '{value}' must be 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field,
        )
    return value


def ensure_known_country(code: str, field: str) -> CountryCode:
    if code not in COUNTRIES:
        raise Rejection(
            Rule.UNKNOWN_COUNTRY, f"unknown country code '{code}' (ISO 3166-1 alpha-3)", field
        )
    return CountryCode(code)


def ensure_known_mission(code: str | None, field: str) -> None:
    if code is not None and code not in MISSIONS:
        raise Rejection(Rule.UNKNOWN_MISSION, f"unknown mission '{code}'", field)


_MISSION_KIND: Final = {
    EntityKind.PEACEKEEPING: MissionKind.PEACEKEEPING,
    EntityKind.SPECIAL_POLITICAL: MissionKind.SPECIAL_POLITICAL,
}


def ensure_mission_of_entity(entity: EntityKind, mission: str | None) -> None:
    """A mission's allegation names its mission, of the right kind; others may name one."""
    ensure_known_mission(mission, "mission")
    kind = _MISSION_KIND.get(entity)
    if kind is None:
        return
    if mission is None:
        raise Rejection(
            Rule.INVALID_VALUE, f"an allegation in a {entity.value} mission names the mission",
            "mission",
        )  # fmt: skip
    if MISSIONS[mission].kind is not kind:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"{mission} is a {MISSIONS[mission].kind.value} mission, not {entity.value}",
            "entity",
        )


def ensure_investigation_names_state(
    entity: InvestigatingEntity, member_state: CountryCode | None
) -> None:
    """A national investigation names its Member State; a UN one names none."""
    if not entity.national and member_state is not None:
        raise Rejection(
            Rule.INVALID_VALUE, f"a UN ({entity.value}) investigation names no member_state",
            "member_state",
        )  # fmt: skip
    if entity.national and member_state is None:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"a {entity.value} investigation names its member_state",
            "member_state",
        )


def ensure_date_precision(given: date | None, precision: DatePrecision | None) -> DatePrecision:
    """The precision of an incident date: defaulted from the date, never contradicting it."""
    if precision is None:
        return DatePrecision.UNKNOWN if given is None else DatePrecision.DAY
    if (given is None) != (precision is DatePrecision.UNKNOWN):
        raise Rejection(
            Rule.INVALID_VALUE,
            "incident_date_precision is unknown exactly when there is no incident_date",
            "incident_date_precision",
        )
    return precision


def ensure_incident_not_after_receipt(incident_date: date | None, received_at: datetime) -> None:
    if incident_date is not None and incident_date > received_at.date():
        raise Rejection(
            Rule.OUT_OF_ORDER,
            f"incident_date {incident_date} is after the report was received "
            f"({received_at.date()})",
            "incident_date",
        )


def ensure_text(value: str | None, field: str, limit: int) -> None:
    """A short printable text, such as a name or a reference: never blank, never long."""
    if value is not None and (not value.strip() or len(value) > limit or not value.isprintable()):
        raise Rejection(
            Rule.INVALID_VALUE,
            f"{field} must be 1 to {limit} printable characters, not only spaces",
            field,
        )


def ensure_positive(value: int | None, field: str) -> None:
    if value is not None and value <= 0:
        raise Rejection(Rule.INVALID_VALUE, f"{field} must be positive, not {value}", field)


_NEEDS_MONTHS: Final = frozenset({SanctionKind.IMPRISONMENT, SanctionKind.SUSPENSION})


def ensure_months_fit(kind: SanctionKind, months: int | None) -> None:
    """Imprisonment and suspension are counted in months; other sanctions have none."""
    ensure_positive(months, "months")
    if kind in _NEEDS_MONTHS and months is None:
        raise Rejection(
            Rule.MONTHS_REQUIRED, f"a sanction of {kind.value} needs its months", "months"
        )
    if kind not in _NEEDS_MONTHS and months is not None:
        raise Rejection(
            Rule.MONTHS_NOT_APPLICABLE,
            f"a sanction of {kind.value} has no months; only "
            f"{' and '.join(sorted(k.value for k in _NEEDS_MONTHS))} do",
            "months",
        )


def ensure_sentence_fits(outcome: ProsecutionOutcome, sentence_months: int | None) -> None:
    ensure_positive(sentence_months, "sentence_months")
    if sentence_months is not None and outcome is not ProsecutionOutcome.CONVICTED:
        raise Rejection(
            Rule.SENTENCE_WITHOUT_CONVICTION,
            f"a prosecution that ended {outcome.value} carries no sentence",
            "sentence_months",
        )


def ensure_assistance_kinds(kinds: tuple[AssistanceKind, ...]) -> None:
    if not kinds:
        raise Rejection(Rule.INVALID_VALUE, "kinds names at least one kind of assistance", "kinds")
    repeated = sorted(kind.value for kind, count in Counter(kinds).items() if count > 1)
    if repeated:
        raise Rejection(
            Rule.INVALID_VALUE, f"kinds names {', '.join(repeated)} more than once", "kinds"
        )


def ensure_not_in_future(at: datetime, now: datetime, field: str = "occurred_at") -> None:
    if at > now + CLOCK_SKEW:
        raise Rejection(
            Rule.FUTURE_DATE,
            f"{field} {at.isoformat()} is in the future (now {now.isoformat()})",
            field,
        )


def ensure_not_before(
    at: datetime, earlier: datetime | None, what: str, field: str = "occurred_at"
) -> None:
    if earlier is not None and at < earlier:
        raise Rejection(
            Rule.OUT_OF_ORDER,
            f"{field} {at.isoformat()} is before {what} ({earlier.isoformat()})",
            field,
        )


def ensure_role(actor: Actor, allowed: Collection[Role], action: str) -> None:
    if actor.role not in allowed:
        roles = " or ".join(sorted(r.value for r in allowed))
        raise Rejection(
            Rule.FORBIDDEN_ROLE, f"{action} needs the role {roles}, not {actor.role.value}"
        )


def ensure_own_state(actor: Actor, member_state: CountryCode | None, field: str) -> None:
    """A Member State acts only for itself."""
    if actor.role is Role.MEMBER_STATE and member_state != actor.member_state:
        raise Rejection(
            Rule.FORBIDDEN_MEMBER_STATE,
            f"{actor.member_state} may not act for {member_state or 'another party'}",
            field,
        )


def ensure_case_in_scope(actor: Actor, state: CaseState, field: str = "case_id") -> None:
    """A Member State acts only on cases that involve its own nationals."""
    if actor.role is Role.MEMBER_STATE and (
        actor.member_state is None or not state.involves(actor.member_state)
    ):
        where = f"case {state.case_id}" if state.case_id else "this case"
        raise Rejection(
            Rule.FORBIDDEN_MEMBER_STATE,
            f"{where} involves no national of {actor.member_state or 'this principal'}",
            field,
        )


def ensure_not_withdrawn(state: CaseState, case_id: str) -> None:
    """A case whose report was retracted takes nothing but corrections and retractions."""
    if state.withdrawn:
        raise Rejection(
            Rule.CASE_WITHDRAWN,
            f"case '{case_id}' was withdrawn: the report of its allegation was retracted",
            "case_id",
        )


def ensure_reported(state: CaseState, case_id: str) -> None:
    ensure_not_withdrawn(state, case_id)
    if not state.reported:
        raise Rejection(
            Rule.CASE_NOT_FOUND, f"no allegation reported as case '{case_id}'", "case_id"
        )


def ensure_open(state: CaseState) -> None:
    if state.status == "closed":
        raise Rejection(Rule.CASE_CLOSED, f"case {state.case_id} is closed", "case_id")


def ensure_closed(state: CaseState) -> datetime | None:
    """When the case was closed; only a closed case can be reopened."""
    if state.status != "closed":
        raise Rejection(Rule.CASE_NOT_CLOSED, f"case {state.case_id} is not closed", "case_id")
    return state.closed_at


def ensure_involved(state: CaseState, member_state: CountryCode, field: str) -> None:
    if not any(
        p.nationality == member_state and p.category.uniformed for p in state.perpetrators.values()
    ):
        raise Rejection(
            Rule.STATE_NOT_INVOLVED,
            f"no uniformed alleged perpetrator of case {state.case_id} is a national of "
            f"{member_state}",
            field,
        )


def ensure_notified(state: CaseState, member_state: CountryCode, field: str) -> FollowUp:
    follow_up = state.follow_ups.get(member_state)
    if follow_up is None:
        raise Rejection(
            Rule.NOT_NOTIFIED,
            f"{member_state} has not been notified of case {state.case_id}",
            field,
        )
    return follow_up


def ensure_not_declined(follow_up: FollowUp, field: str) -> None:
    if follow_up.reply == "declined":
        raise Rejection(
            Rule.DECLINED_TO_INVESTIGATE,
            f"{follow_up.member_state} declined to investigate this case",
            field,
        )


def ensure_perpetrator(state: CaseState, perpetrator_id: str) -> Perpetrator:
    perpetrator = state.perpetrators.get(perpetrator_id)
    if perpetrator is None:
        raise Rejection(
            Rule.UNKNOWN_PERPETRATOR,
            f"case {state.case_id} has no alleged perpetrator '{perpetrator_id}'",
            "perpetrator_id",
        )
    return perpetrator


def ensure_victim_number(victim_id: str) -> str:
    """A victim is known by a number in its case (V1, V2, …), never by anything that
    could name them; the refusal does not repeat what was sent, which may be a name."""
    if not _VICTIM_NUMBER.fullmatch(victim_id):
        raise Rejection(
            Rule.INVALID_IDENTIFIER,
            "victim_id must be V and a number (V1, V2, …): a victim is never named, "
            "not even in an id; leave it out to take the next free number",
            "victim_id",
        )
    return victim_id


def ensure_victim(state: CaseState, victim_id: str) -> Victim:
    victim = state.victims.get(victim_id)
    if victim is None:
        shown = f" '{victim_id}'" if _VICTIM_NUMBER.fullmatch(victim_id) else " by that id"
        raise Rejection(
            Rule.UNKNOWN_VICTIM, f"case {state.case_id} has no victim{shown}", "victim_id"
        )
    return victim


def ensure_claim(state: CaseState, claim_id: str) -> PaternityClaim:
    claim = state.claims.get(claim_id)
    if claim is None:
        raise Rejection(
            Rule.UNKNOWN_CLAIM,
            f"case {state.case_id} has no paternity claim '{claim_id}'",
            "claim_id",
        )
    return claim


def ensure_investigation(state: CaseState, investigation_id: str) -> Investigation:
    investigation = state.investigations.get(investigation_id)
    if investigation is None:
        raise Rejection(
            Rule.UNKNOWN_INVESTIGATION,
            f"case {state.case_id} has no investigation '{investigation_id}'",
            "investigation_id",
        )
    return investigation


def ensure_substantiated(
    state: CaseState, perpetrator: Perpetrator, at: datetime, action: str
) -> None:
    """An outcome follows a substantiated finding that bears on the perpetrator's state."""
    found_at = state.substantiated_for(perpetrator.nationality)
    if found_at is None:
        raise Rejection(
            Rule.NOT_SUBSTANTIATED,
            f"{action} needs a substantiated finding in case {state.case_id} by the UN or by "
            f"{perpetrator.nationality}",
            "case_id",
        )
    ensure_not_before(at, found_at, "the substantiated finding")


def ensure_not_referred(state: CaseState, perpetrator: Perpetrator) -> None:
    referred_at = state.referred.get(perpetrator.perpetrator_id)
    if referred_at is not None:
        raise Rejection(
            Rule.ALREADY_REFERRED,
            f"perpetrator '{perpetrator.perpetrator_id}' was referred to the national "
            f"authorities on {referred_at.date()}",
            "perpetrator_id",
        )


def ensure_prosecution_basis(state: CaseState, perpetrator: Perpetrator, at: datetime) -> None:
    """A prosecution outcome follows a criminal referral or a substantiated finding.

    It relies on the earlier of the two, and may not precede it.
    """
    bases = [
        instant
        for instant in (
            state.referred.get(perpetrator.perpetrator_id),
            state.substantiated_for(perpetrator.nationality),
        )
        if instant is not None
    ]
    if not bases:
        raise Rejection(
            Rule.NOT_SUBSTANTIATED,
            f"a prosecution outcome needs a criminal referral of "
            f"'{perpetrator.perpetrator_id}' or a substantiated finding in case "
            f"{state.case_id} by the UN or by {perpetrator.nationality}",
            "case_id",
        )
    ensure_not_before(at, min(bases), "the referral or the substantiated finding")


# --- sealed text and erasure --------------------------------------------------------------


def ensure_not_erased(state: CaseState) -> None:
    if state.erased_at is not None:
        raise Rejection(
            Rule.VICTIM_DATA_ERASED,
            f"the victim data of case {state.case_id} was erased on {state.erased_at.date()}: "
            "its key is destroyed and it takes no more text",
            "case_id",
        )


def ensure_sealed(state: CaseState, text: str, field: str = "text") -> None:
    """Text is only ever recorded sealed, and every text of a case under the case's one key."""
    ensure_not_erased(state)
    try:
        key_id = parse_sealed(text).key_id
    except MalformedSealedText as exc:
        raise Rejection(Rule.TEXT_NOT_SEALED, f"{field}: {exc}", field) from None
    if state.text_key_id is not None and key_id != state.text_key_id:
        raise Rejection(
            Rule.TEXT_KEY_MISMATCH,
            f"{field} is sealed with key {key_id}, but case {state.case_id}'s texts are sealed "
            f"with key {state.text_key_id}",
            field,
        )


# --- signatures ----------------------------------------------------------------------------


def ensure_signed(
    record: MemberStateRecord,
    member_state: str,
    envelope: CommandEnvelope,
    *,
    may_bootstrap: bool = False,
) -> None:
    """A state that registered a key signs what its principals submit, with a key in force.

    ``may_bootstrap``: the command registers a key, and an unsigned one is taken while
    the state has no key in force (its first, or after it revoked them all).
    """
    signature = envelope.signature
    if signature is None:
        if not record.signing_required or (may_bootstrap and not record.active_keys):
            return
        keys = ", ".join(sorted(record.active_keys))
        raise Rejection(
            Rule.SIGNATURE_REQUIRED,
            f"{member_state} registered a signing key, so its submissions are signed "
            + (f"(keys in force: {keys})" if keys else "(it revoked every key: register one)"),
            "signature",
        )
    key = record.signing_keys.get(signature.key_id)
    if key is None:
        raise Rejection(
            Rule.UNKNOWN_SIGNING_KEY,
            f"key {signature.key_id} is not a signing key registered by {member_state}",
            "signature",
        )
    if key.revoked_at is not None:
        raise Rejection(
            Rule.SIGNING_KEY_REVOKED,
            f"key {key.key_id} of {member_state} was revoked on {key.revoked_at.date()}",
            "signature",
        )
    signed = envelope.statement()
    if not signature_verifies(key.public_key, signature.value, signed):
        raise Rejection(
            Rule.INVALID_SIGNATURE,
            f"the signature does not verify with key {key.key_id} over this command's statement "
            f"(SHA-256 {hashlib.sha256(signed).hexdigest()}); sign exactly the command sent",
            "signature",
        )


# --- corrections -------------------------------------------------------------------------

REASON_LIMIT: Final = 500
_IDENTITY_FIELDS: Final = ("case_id", "perpetrator_id", "victim_id", "investigation_id", "claim_id")
# The Member State a follow-up or an investigation belongs to, or whose stream it is on,
# is what the event is about; elsewhere member_state is a copy of a nationality.
_STATE_IS_IDENTITY: Final = (
    MemberStateNotified,
    MemberStateRepliedIntentToInvestigate,
    MemberStateDeclinedToInvestigate,
    NationalInvestigationOfficerAppointed,
    FollowUpRequested,
    InvestigationOpened,
    InvestigationConcluded,
    VoluntaryCompactSigned,
    CircleOfLeadershipJoined,
    TrustFundContributionMade,
    FocalPointDesignated,
)


_CORRECTION_NOUN: Final = {"EventCorrected": "correction", "EventRetracted": "retraction"}


def ensure_reason(reason: str) -> None:
    if not reason.strip() or len(reason) > REASON_LIMIT:
        raise Rejection(
            Rule.INVALID_VALUE,
            f"reason must say why, in 1 to {REASON_LIMIT} characters (not only spaces)",
            "reason",
        )


def ensure_correctable(history: History, event_id: str) -> Recorded:
    """The event a correction or retraction names: of this stream, a fact, in force."""
    recorded = history.get(event_id)
    if recorded is None:
        raise Rejection(Rule.UNKNOWN_EVENT, f"this stream has no event '{event_id}'", "event_id")
    if recorded.is_correction:
        raise Rejection(
            Rule.EVENT_NOT_CORRECTABLE,
            f"event '{event_id}' is a {_CORRECTION_NOUN[recorded.envelope.type]}; correct the "
            "event it names instead",
            "event_id",
        )
    if recorded.retracted:
        raise Rejection(
            Rule.ALREADY_RETRACTED, f"event '{event_id}' was already retracted", "event_id"
        )
    return recorded


def ensure_recorded_by(actor: Actor, recorded: Recorded) -> None:
    """A Member State corrects only what it recorded itself; an officer corrects anything."""
    author = recorded.envelope.actor
    if actor.role is Role.MEMBER_STATE and (
        author.role is not Role.MEMBER_STATE or author.member_state != actor.member_state
    ):
        raise Rejection(
            Rule.FORBIDDEN_MEMBER_STATE,
            f"{actor.member_state or 'this principal'} may correct or retract only the events "
            f"it recorded itself; event '{recorded.event_id}' was recorded by "
            f"{author.principal_id}",
            "event_id",
        )


def ensure_no_dependents(history: History, recorded: Recorded) -> None:
    """An event that later events in force refer to is retracted only after them."""
    dependents = history.dependents(recorded)
    if dependents:
        named = ", ".join(f"{d.envelope.type} {d.event_id}" for d in dependents)
        raise Rejection(
            Rule.EVENT_HAS_DEPENDENTS,
            f"{recorded.envelope.type} {recorded.event_id} is referred to by {named}; "
            "retract those first",
            "event_id",
        )


def ensure_same_identity(original: Event, corrected: Event) -> None:
    """A correction fixes facts; what the event is about (its ids, its state) stays."""
    names = [name for name in _IDENTITY_FIELDS if hasattr(original, name)]
    if isinstance(original, _STATE_IS_IDENTITY):
        names.append("member_state")
    changed = [name for name in names if getattr(original, name) != getattr(corrected, name)]
    if changed:
        raise Rejection(
            Rule.CORRECTION_CHANGES_IDENTITY,
            f"a correction may not change {', '.join(changed)}; retract the event and record "
            "the right one instead",
            "corrected_payload",
        )


def ensure_changes_something(recorded: Recorded, corrected: Event, occurred_at: datetime) -> None:
    if (corrected, occurred_at) == (recorded.payload, recorded.occurred_at):
        raise Rejection(
            Rule.CORRECTION_CHANGES_NOTHING,
            f"the correction of event '{recorded.event_id}' is what is already in force",
            "corrected_payload",
        )


def next_identifier(prefix: str, taken: Collection[str]) -> str:
    """The first free ``<prefix><n>``: P1, P2, … for perpetrators, V1, … for victims."""
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"
