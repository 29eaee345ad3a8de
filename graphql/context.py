"""What a GraphQL request carries: who asks, how to read, how to submit.

The GraphQL layer imports no service: the API hands it a :class:`RequestContext`
whose reader and submitter it implements. The principal is set once, at the edge,
in :data:`current_actor`.
"""

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from sqlalchemy import Connection

from accountability.events.commands import Actor, Command
from accountability.events.envelope import Envelope
from accountability.events.errors import RejectionDetail
from accountability.events.policy import DeadlinePolicy
from accountability.events.privacy import OpenedText, SealedText
from accountability.events.signing import Signature

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


class Refused(Exception):
    """The submitter refused before sending anything; the detail says why, as a rejection."""

    def __init__(self, detail: RejectionDetail) -> None:
        super().__init__(detail.message)
        self.detail = detail


class Submitter(Protocol):
    async def submit(
        self,
        command: Command,
        *,
        command_id: str | None,
        occurred_at: datetime | None,
        correlation_id: str | None,
        signature: Signature | None = None,
    ) -> SubmitOutcome: ...

    async def seal_text(self, case_id: str, text: str) -> SealedText:
        """``text`` sealed with the case's key, at the edge; :class:`Refused` if it may not be."""
        ...


class Reader(Protocol):
    async def read(self, query: Callable[[Connection], T]) -> T:
        """Run ``query`` on a read-model connection, off the event loop."""
        ...


@runtime_checkable
class TextOpener(Protocol):
    """A reader that can also open a case's sealed texts with the case's key."""

    async def open_texts(self, case_id: str, texts: Sequence[str]) -> list[OpenedText]: ...


@dataclass(frozen=True, slots=True)
class RequestContext:
    reader: Reader
    submitter: Submitter
    policy: DeadlinePolicy
    clock: Callable[[], datetime]

    @property
    def actor(self) -> Actor | None:
        return current_actor.get()
