"""The state of one Member State's commitments stream, ``state:<ISO 3166-1 alpha-3>``."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from .catalogue import (
    CircleOfLeadershipJoined,
    EventCorrected,
    EventRetracted,
    FocalPointDesignated,
    TrustFundContributionMade,
    VoluntaryCompactSigned,
)
from .envelope import Envelope, StreamHead
from .history import History
from .types import CountryCode
from .vocabulary import FocalPointRole


@dataclass(frozen=True, slots=True)
class Contribution:
    """One contribution to the Trust Fund in Support of Victims, in whole US dollars."""

    made_at: datetime
    amount_usd: int


@dataclass(frozen=True, slots=True)
class MemberStateRecord:
    head: StreamHead = field(default_factory=StreamHead)
    member_state: CountryCode | None = None
    compact_signed_at: datetime | None = None
    circle_joined_at: datetime | None = None
    contributions: tuple[Contribution, ...] = ()
    focal_points: Mapping[FocalPointRole, datetime] = field(default_factory=dict)
    """When the focal point now in office for each role was designated."""
    history: History = field(default_factory=History)
    command_ids: frozenset[str] = frozenset()

    @property
    def contributed_usd(self) -> int:
        return sum(c.amount_usd for c in self.contributions)


def evolve_member_state(state: MemberStateRecord, envelope: Envelope) -> MemberStateRecord:
    state = replace(
        state,
        head=envelope.head,
        command_ids=state.command_ids | {envelope.command_id},
        history=state.history.record(envelope),
    )
    if isinstance(envelope.payload, EventCorrected | EventRetracted):
        return refold_member_state(state)
    return _apply(state, envelope)


def refold_member_state(state: MemberStateRecord) -> MemberStateRecord:
    """The record folded again from its events in force; head and history stay."""
    folded = MemberStateRecord(
        head=state.head, history=state.history, command_ids=state.command_ids
    )
    for envelope in state.history.in_force():
        folded = _apply(folded, envelope)
    return folded


def _apply(state: MemberStateRecord, envelope: Envelope) -> MemberStateRecord:
    at = envelope.occurred_at
    match envelope.payload:
        case VoluntaryCompactSigned(member_state=ms):
            return replace(state, member_state=ms, compact_signed_at=at)
        case CircleOfLeadershipJoined(member_state=ms):
            return replace(state, member_state=ms, circle_joined_at=at)
        case TrustFundContributionMade(member_state=ms, amount_usd=amount):
            contributions = (*state.contributions, Contribution(at, amount))
            return replace(state, member_state=ms, contributions=contributions)
        case FocalPointDesignated(member_state=ms, role=role):
            return replace(state, member_state=ms, focal_points={**state.focal_points, role: at})
        case _:
            raise TypeError(f"{envelope.type} is not an event of a Member State stream")
