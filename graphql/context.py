"""What a GraphQL request carries: who asks, how to read, how to submit.

The GraphQL layer imports no service: the API hands it a :class:`RequestContext`
whose reader and submitter it implements. The principal is set once, at the edge,
in :data:`current_actor`.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from accountability.events.commands import Actor, Command
from accountability.events.envelope import Envelope
from accountability.events.errors import RejectionDetail
from accountability.events.policy import DeadlinePolicy

T = TypeVar("T")

current_actor: ContextVar[Actor | None] = ContextVar("current_actor", default=None)
"""The authenticated principal of the request being served; None for the public."""


@dataclass(frozen=True, slots=True)
class Accepted:
    command_id: str
    stream_id: str
    events: list[Envelope]
    visible: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    command_id: str
    stream_id: str
    rejection: RejectionDetail


SubmitOutcome = Accepted | Rejected


class Submitter(Protocol):
    async def submit(
        self,
        command: Command,
        *,
        command_id: str | None,
        occurred_at: datetime | None,
        correlation_id: str | None,
    ) -> SubmitOutcome: ...


class Reader(Protocol):
    async def read(self, query: Callable[[Connection], T]) -> T:
        """Run ``query`` on a read-model connection, off the event loop."""
        ...


@dataclass(frozen=True, slots=True)
class RequestContext:
    reader: Reader
    submitter: Submitter
    policy: DeadlinePolicy
    clock: Callable[[], datetime]

    @property
    def actor(self) -> Actor | None:
        return current_actor.get()
