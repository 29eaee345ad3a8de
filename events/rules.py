"""Named guards: each checks one rule of the world and raises a rejection naming it."""

import re
from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from .case import CaseState, FollowUp, Investigation, Perpetrator
from .commands import Actor
from .countries import COUNTRIES
from .errors import Rejection
from .missions import MISSIONS
from .types import CountryCode
from .vocabulary import Role


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


CLOCK_SKEW: Final = timedelta(minutes=5)
_IDENTIFIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


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


def ensure_positive(value: int | None, field: str) -> None:
    if value is not None and value <= 0:
        raise Rejection(Rule.INVALID_VALUE, f"{field} must be positive, not {value}", field)


def ensure_not_in_future(at: datetime, now: datetime) -> None:
    if at > now + CLOCK_SKEW:
        raise Rejection(
            Rule.FUTURE_DATE,
            f"occurred_at {at.isoformat()} is in the future (now {now.isoformat()})",
            "occurred_at",
        )


def ensure_not_before(at: datetime, earlier: datetime | None, what: str) -> None:
    if earlier is not None and at < earlier:
        raise Rejection(
            Rule.OUT_OF_ORDER,
            f"occurred_at {at.isoformat()} is before {what} ({earlier.isoformat()})",
            "occurred_at",
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


def ensure_case_in_scope(actor: Actor, state: CaseState) -> None:
    """A Member State acts only on cases that involve its own nationals."""
    if actor.role is Role.MEMBER_STATE and (
        actor.member_state is None or not state.involves(actor.member_state)
    ):
        raise Rejection(
            Rule.FORBIDDEN_MEMBER_STATE,
            f"case {state.case_id} involves no national of "
            f"{actor.member_state or 'this principal'}",
            "case_id",
        )


def ensure_reported(state: CaseState, case_id: str) -> None:
    if not state.reported:
        raise Rejection(
            Rule.CASE_NOT_FOUND, f"no allegation reported as case '{case_id}'", "case_id"
        )


def ensure_open(state: CaseState) -> None:
    if state.status == "closed":
        raise Rejection(Rule.CASE_CLOSED, f"case {state.case_id} is closed", "case_id")


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


def next_identifier(prefix: str, taken: Collection[str]) -> str:
    """The first free ``<prefix><n>``: P1, P2, … for perpetrators, V1, … for victims."""
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"
