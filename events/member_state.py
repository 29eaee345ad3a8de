"""The state of one Member State's commitments stream, ``state:<ISO 3166-1 alpha-3>``."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from .catalogue import (
    CircleOfLeadershipJoined,
    EventCorrected,
    EventRetracted,
    FocalPointDesignated,
    SigningKeyRegistered,
    SigningKeyRevoked,
    TrustFundContributionMade,
    VoluntaryCompactSigned,
)
from .envelope import Envelope, StreamHead
from .history import History
from .signing import SigningKey, from_b64
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
    signing_keys: Mapping[str, SigningKey] = field(default_factory=dict)
    """Every key the state registered, by key id, revoked ones included."""
    history: History = field(default_factory=History)
    command_ids: frozenset[str] = frozenset()

    @property
    def contributed_usd(self) -> int:
        return sum(c.amount_usd for c in self.contributions)

    @property
    def signing_required(self) -> bool:
        """Once a state registered a key, its principals sign everything they submit."""
        return bool(self.signing_keys)

    @property
    def active_keys(self) -> dict[str, SigningKey]:
        return {k: key for k, key in self.signing_keys.items() if key.active}


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
        case SigningKeyRegistered(member_state=ms, key_id=key_id, public_key=public_key):
            key = SigningKey(key_id, from_b64(public_key, "public_key"), envelope.recorded_at)
            return replace(state, member_state=ms, signing_keys={**state.signing_keys, key_id: key})
        case SigningKeyRevoked(member_state=ms, key_id=key_id):
            revoked = replace(state.signing_keys[key_id], revoked_at=envelope.recorded_at)
            return replace(
                state, member_state=ms, signing_keys={**state.signing_keys, key_id: revoked}
            )
        case _:
            raise TypeError(f"{envelope.type} is not an event of a Member State stream")
