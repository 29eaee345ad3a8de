"""The GraphQL layer's submitter and reader, backed by the command bus and SQL.

This is the edge where plain text and signatures are handled, so that neither
reaches the log unchecked: a narrative or note is sealed here with the case's key
(``services/keys.py``) before its command is built; a command is checked against its
Member State's signing keys (``services/signatures.py``) before it is sent; an
accepted erasure destroys the case's key at once; and sealed texts are opened here,
for the readers allowed to read them.
"""

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, select

from accountability.events.commands import Command, CommandEnvelope, EraseVictimData
from accountability.events.envelope import decode_envelope
from accountability.events.errors import DecodeError, RejectionDetail
from accountability.events.privacy import OpenedText, SealedText, text_problem
from accountability.events.rules import Rule
from accountability.events.signing import Signature
from accountability.events.types import CommandId
from accountability.events.wire import CommandResult, Position, decode_command, encode_command
from accountability.graphql.context import (
    Accepted,
    Refused,
    Rejected,
    SubmitOutcome,
    current_actor,
)
from accountability.graphql.errors import UNAUTHENTICATED_MESSAGE, Unauthenticated, Unavailable
from accountability.graphql.errors import NotConfirmed as NotConfirmedError
from accountability.projections import all_projections
from accountability.projections.runner import checkpoints
from accountability.services import archive, keys, signatures
from accountability.services.kafka import BrokerUnavailable
from accountability.services.settings import Settings

from .bus import CommandBus, NotConfirmed

T = TypeVar("T")

_POLL_SECONDS = 0.005


class SqlReader:
    """Runs read-model queries on a worker thread so the event loop stays free.

    It also opens a case's sealed texts with the case's key (``TextOpener``); the
    GraphQL layer asks only for the readers allowed to read them.
    """

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._engine = engine
        self._clock = clock

    async def read(self, query: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self._run, query)

    def _run(self, query: Callable[[Connection], T]) -> T:
        with self._engine.connect() as conn:
            return query(conn)

    async def open_texts(self, case_id: str, texts: Sequence[str]) -> list[OpenedText]:
        return await asyncio.to_thread(self._open, case_id, list(texts))

    def _open(self, case_id: str, texts: list[str]) -> list[OpenedText]:
        # A transaction, not a bare read: a key whose erasure is archived is destroyed first.
        with self._engine.begin() as conn:
            return keys.open_texts(conn, case_id, texts, self._clock())


def _unreadable(envelope: CommandEnvelope) -> RejectionDetail | None:
    """Why the decider could not read ``envelope`` back, if it could not.

    The wire decoder is stricter than the types (a stream id must be ``case:…`` or
    ``state:…``); checking here answers at once instead of after a round trip to a
    decider whose answer would name no stream.
    """
    try:
        decode_command(encode_command(envelope))
    except DecodeError as exc:
        return RejectionDetail("INVALID_COMMAND", str(exc), exc.field)
    return None


class CommandService:
    def __init__(
        self,
        bus: CommandBus,
        engine: Engine,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bus = bus
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._projections = [p.name for p in all_projections()]

    async def submit(
        self,
        command: Command,
        *,
        command_id: str | None,
        occurred_at: datetime | None,
        correlation_id: str | None,
        signature: Signature | None = None,
    ) -> SubmitOutcome:
        actor = current_actor.get()
        if actor is None:
            raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
        now = self._clock()
        cid = CommandId(command_id or str(uuid.uuid4()))
        envelope = CommandEnvelope(
            command_id=cid,
            correlation_id=correlation_id or cid,
            actor=actor,
            issued_at=now,
            occurred_at=occurred_at or now,
            command=command,
            signature=signature,
        )
        unreadable = _unreadable(envelope)
        if unreadable is not None:
            return Rejected(envelope.command_id, envelope.stream_id, unreadable)
        refusal = await asyncio.to_thread(self._signature_problem, envelope)
        if refusal is not None:
            return Rejected(envelope.command_id, envelope.stream_id, refusal)
        answered = await asyncio.to_thread(self._stored_answer, envelope)
        if answered is not None:
            return await self._outcome(answered, envelope)
        try:
            result = await self._bus.submit(envelope)
        except BrokerUnavailable as exc:
            raise Unavailable(str(exc)) from None
        except NotConfirmed as exc:
            answered = await asyncio.to_thread(self._stored_answer, envelope)
            if answered is None:
                raise NotConfirmedError(str(exc)) from None
            result = answered
        return await self._outcome(result, envelope)

    async def seal_text(self, case_id: str, text: str) -> SealedText:
        """``text`` sealed with the case's key (made on first use); plain text goes no further."""
        problem = text_problem(text)
        if problem is not None:
            raise Refused(RejectionDetail(Rule.INVALID_VALUE, f"text {problem}", "text"))
        try:
            return await asyncio.to_thread(self._seal, case_id, text)
        except keys.TextErased as exc:
            raise Refused(RejectionDetail(Rule.VICTIM_DATA_ERASED, str(exc), "case_id")) from None

    def _seal(self, case_id: str, text: str) -> SealedText:
        with self._engine.begin() as conn:
            return keys.seal(conn, case_id, text, self._clock())

    def _signature_problem(self, envelope: CommandEnvelope) -> RejectionDetail | None:
        with self._engine.connect() as conn:
            return signatures.submission_problem(conn, envelope)

    def _destroy_key(self, case_id: str, event_id: str | None) -> None:
        with self._engine.begin() as conn:
            keys.destroy(conn, case_id, self._clock(), event_id)

    def _stored_answer(self, envelope: CommandEnvelope) -> CommandResult | None:
        """The answer already given to this command id, if the decider has published it."""
        with self._engine.connect() as conn:
            stored = archive.find_results(conn, [envelope.command_id]).get(envelope.command_id)
        if stored is None or not stored.published:
            return None
        if stored.fingerprint != archive.fingerprint(envelope):
            return None  # a different command under a used id: the decider rejects it
        return stored.result

    async def _outcome(self, result: CommandResult, envelope: CommandEnvelope) -> SubmitOutcome:
        if result.rejection is not None:
            return Rejected(result.command_id, result.stream_id, result.rejection)
        if isinstance(envelope.command, EraseVictimData):
            # At once, not only when the worker applies the event (services/keys.py).
            first = result.event_ids[0] if result.event_ids else None
            await asyncio.to_thread(self._destroy_key, envelope.command.case_id, first)
        raws = await asyncio.to_thread(self._events, result.event_ids)
        visible = await self.wait_visible(result.positions)
        return Accepted(
            result.command_id, result.stream_id, [decode_envelope(r) for r in raws], visible
        )

    def _events(self, event_ids: Sequence[str]) -> list[bytes]:
        with self._engine.connect() as conn:
            return archive.events_by_id(conn, event_ids)

    async def wait_visible(self, positions: Sequence[Position]) -> bool:
        """Wait until every read model has applied ``positions``; False on timeout."""
        if not positions:
            return True
        deadline = time.monotonic() + self._settings.visibility_timeout_seconds
        while True:
            if await asyncio.to_thread(self._visible, positions):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(_POLL_SECONDS)

    def _visible(self, positions: Sequence[Position]) -> bool:
        needed: dict[int, int] = {}
        for position in positions:
            needed[position.partition] = max(needed.get(position.partition, -1), position.offset)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    checkpoints.c.projection, checkpoints.c.partition, checkpoints.c.next_offset
                ).where(checkpoints.c.partition.in_(list(needed)))
            ).all()
        reached = {(name, partition): offset for name, partition, offset in rows}
        return all(
            reached.get((name, partition), 0) > offset
            for name in self._projections
            for partition, offset in needed.items()
        )
