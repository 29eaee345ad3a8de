"""The GraphQL layer's submitter and reader, backed by the command bus and SQL."""

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, select

from accountability.events.commands import Command, CommandEnvelope
from accountability.events.envelope import decode_envelope
from accountability.events.types import CommandId
from accountability.events.wire import CommandResult, Position
from accountability.graphql.context import Accepted, Rejected, SubmitOutcome, current_actor
from accountability.graphql.errors import UNAUTHENTICATED_MESSAGE, Unauthenticated, Unavailable
from accountability.graphql.errors import NotConfirmed as NotConfirmedError
from accountability.projections import all_projections
from accountability.projections.runner import checkpoints
from accountability.services import archive
from accountability.services.kafka import BrokerUnavailable
from accountability.services.settings import Settings

from .bus import CommandBus, NotConfirmed

T = TypeVar("T")

_POLL_SECONDS = 0.005


class SqlReader:
    """Runs read-model queries on a worker thread so the event loop stays free."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def read(self, query: Callable[[Connection], T]) -> T:
        return await asyncio.to_thread(self._run, query)

    def _run(self, query: Callable[[Connection], T]) -> T:
        with self._engine.connect() as conn:
            return query(conn)


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
        )
        answered = await asyncio.to_thread(self._stored_answer, envelope)
        if answered is not None:
            return await self._outcome(answered)
        try:
            result = await self._bus.submit(envelope)
        except BrokerUnavailable as exc:
            raise Unavailable(str(exc)) from None
        except NotConfirmed as exc:
            answered = await asyncio.to_thread(self._stored_answer, envelope)
            if answered is None:
                raise NotConfirmedError(str(exc)) from None
            result = answered
        return await self._outcome(result)

    def _stored_answer(self, envelope: CommandEnvelope) -> CommandResult | None:
        """The answer already given to this command id, if the decider has published it."""
        with self._engine.connect() as conn:
            stored = archive.find_results(conn, [envelope.command_id]).get(envelope.command_id)
        if stored is None or not stored.published:
            return None
        if stored.fingerprint != archive.fingerprint(envelope):
            return None  # a different command under a used id: the decider rejects it
        return stored.result

    async def _outcome(self, result: CommandResult) -> SubmitOutcome:
        if result.rejection is not None:
            return Rejected(result.command_id, result.stream_id, result.rejection)
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
