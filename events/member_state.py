"""The state of one Member State's commitments stream, ``state:<ISO 3166-1 alpha-3>``."""

from dataclasses import dataclass, field, replace
from datetime import datetime

from .catalogue import VoluntaryCompactSigned
from .envelope import Envelope, StreamHead
from .types import CountryCode


@dataclass(frozen=True, slots=True)
class MemberStateRecord:
    head: StreamHead = field(default_factory=StreamHead)
    member_state: CountryCode | None = None
    compact_signed_at: datetime | None = None
    command_ids: frozenset[str] = frozenset()


def evolve_member_state(state: MemberStateRecord, envelope: Envelope) -> MemberStateRecord:
    state = replace(
        state, head=envelope.head, command_ids=state.command_ids | {envelope.command_id}
    )
    match envelope.payload:
        case VoluntaryCompactSigned(member_state=ms):
            return replace(state, member_state=ms, compact_signed_at=envelope.occurred_at)
        case _:
            raise TypeError(f"{envelope.type} is not an event of a Member State stream")
