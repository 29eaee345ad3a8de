"""The decider service: commands in, hash-chained events and answers out.

For each batch of commands it (1) decides every command against its stream's state,
(2) writes the decided events to the archive as pending together with the answers,
in one SQL transaction, (3) publishes the events to the log, (4) records their
offsets, and (5) publishes the answers. A crash between any two steps leaves pending
archive rows, which the decider publishes before the partition's next
command is decided; so an answered event is always in the log and in the archive,
and the log never holds an event the archive lacks.
"""

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from accountability.events.commands import CommandEnvelope
from accountability.events.decider import StreamState, decide, evolve, initial_state
from accountability.events.envelope import decode_envelope, seal
from accountability.events.errors import DecodeError, DomainError, Rejection, RejectionDetail
from accountability.events.types import CommandId, StreamId
from accountability.events.wire import CommandResult, Position, decode_command, encode_result
from accountability.projections.sql import chunks, select_chunk_size
from accountability.services import archive
from accountability.services.store import audit_archive

log = logging.getLogger(__name__)
T = TypeVar("T")


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class LogPort(Protocol):
    """The decider's view of Kafka; a fake stands in for it in tests."""

    async def publish_events(self, partition: int, items: Sequence[tuple[str, bytes]]) -> list[int]:
        """Append ``(key, value)`` items to the events topic's ``partition``, in order."""

    async def publish_results(self, items: Sequence[tuple[str, bytes]]) -> None: ...

    async def read_events(self, partition: int, start: int) -> list[tuple[int, bytes]]:
        """Every record of the events topic's ``partition`` from ``start`` to its end."""


@dataclass(frozen=True, slots=True)
class IncomingCommand:
    partition: int
    offset: int
    value: bytes


@dataclass(slots=True)
class _Plan:
    """What one batch decided, before it is published."""

    staged: list[archive.StagedEvent] = field(default_factory=list)
    new_results: list[tuple[CommandResult, str]] = field(default_factory=list)
    answers: list[CommandResult] = field(default_factory=list)
    states: dict[StreamId, StreamState] = field(default_factory=dict)


class StaleState(Exception):
    """Another decider extended a stream this one had cached, or answered the same command."""


class DecisionCounter(Protocol):
    def count(self, conn: Connection, decided: Sequence[tuple[int, CommandResult]]) -> None:
        """Count new decisions, as (partition, result), in the transaction that stores them."""


STALE_RETRIES = 5
"""Plans tried again after a :class:`StaleState`; each reloads the streams from the archive."""


class Decider:
    def __init__(
        self,
        engine: Engine,
        log_port: LogPort,
        *,
        clock: Clock = utc_now,
        cache_size: int = 50_000,
        counter: DecisionCounter | None = None,
    ) -> None:
        self._engine = engine
        self._log = log_port
        self._clock = clock
        self._counter = counter
        self._cache: OrderedDict[StreamId, StreamState] = OrderedDict()
        self._cache_size = cache_size
        self._reconciled: set[int] = set()
        self._assigned: set[int] = set()
        self._lock = asyncio.Lock()

    def partitions_assigned(self, partitions: set[int]) -> None:
        """After a rebalance, trust nothing cached: another decider may have moved on."""
        self._cache.clear()
        self._reconciled.clear()
        self._assigned = set(partitions)

    def partitions_revoked(self, partitions: set[int]) -> None:
        """Stop reconciling partitions another decider may own from now on."""
        self._assigned -= partitions
        self._reconciled -= partitions

    async def handle(self, batch: Sequence[IncomingCommand]) -> None:
        async with self._lock:
            for partition in sorted({c.partition for c in batch} - self._reconciled):
                await self._reconcile(partition)
            plan = await self._plan_fenced(batch)
            await self._publish(plan)

    async def _plan_fenced(self, batch: Sequence[IncomingCommand]) -> _Plan:
        """Plan the batch; when another process got there first, reload and plan again.

        ``UNIQUE(stream_id, sequence)`` and the command id's key in the archive fence
        concurrent deciders (a rebalance, a zombie): the loser's transaction fails as a
        whole, its cache is dropped, and the next plan folds what the winner recorded.
        """
        for attempt in range(STALE_RETRIES + 1):
            try:
                return await asyncio.to_thread(self._plan, batch)
            except StaleState as exc:
                self._cache.clear()
                if attempt == STALE_RETRIES:
                    raise
                log.warning("planning again after a concurrent decision: %s", exc)
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def reconcile_assigned(self) -> None:
        """Publish what an earlier run decided but did not publish, on owned partitions.

        Only owned ones: reconciling another decider's partition could publish an event
        that decider is about to publish itself. Ownership is checked again just before
        publishing, since a rebalance may have moved the partition meanwhile.
        """
        async with self._lock:
            pending = await asyncio.to_thread(
                self._with_conn_begin, archive.partitions_with_pending
            )
            for partition in sorted(set(pending) & self._assigned):
                await self._reconcile(partition, owned_only=True)

    # --- deciding -----------------------------------------------------------------

    def _plan(self, batch: Sequence[IncomingCommand]) -> _Plan:
        now = self._clock()
        plan = _Plan()
        decoded: list[tuple[IncomingCommand, CommandEnvelope]] = []
        for incoming in batch:
            try:
                decoded.append((incoming, decode_command(incoming.value)))
            except DecodeError as exc:
                answer = _undecodable(incoming.value, exc)
                if answer is None:
                    log.error("dropping a command without a readable command_id: %s", exc)
                else:
                    plan.answers.append(answer)
        if not decoded:
            return plan
        with self._engine.begin() as conn:
            stored = archive.find_results(conn, [c.command_id for _, c in decoded])
            self._load_states(conn, {c.stream_id for _, c in decoded})
            seen: dict[str, tuple[CommandResult, str]] = {}
            decided: list[tuple[int, CommandResult]] = []
            for incoming, command in decoded:
                digest = archive.fingerprint(command)
                earlier = stored.get(command.command_id)
                previous = (earlier.result, earlier.fingerprint) if earlier else None
                previous = seen.get(command.command_id, previous)
                if previous is not None:
                    if _in_flight(earlier, digest, command.command_id in seen):
                        continue  # its decider answers once the events are in the log
                    plan.answers.append(_repeat(previous, command, digest))
                    continue
                result = self._decide_one(plan, incoming.partition, command, now)
                seen[command.command_id] = (result, digest)
                plan.new_results.append((result, digest))
                decided.append((incoming.partition, result))
                if result.status == "rejected":
                    plan.answers.append(result)
            try:
                archive.stage(conn, plan.staged, plan.new_results, now)
            except IntegrityError as exc:
                raise StaleState(str(exc)) from exc
            if self._counter is not None:
                self._counter.count(conn, decided)
        for stream_id, state in plan.states.items():
            self._remember(stream_id, state)
        return plan

    def _decide_one(
        self, plan: _Plan, partition: int, command: CommandEnvelope, now: datetime
    ) -> CommandResult:
        stream_id = command.stream_id
        state = plan.states.get(stream_id) or self._cache.get(stream_id) or initial_state(stream_id)
        try:
            events = decide(state, command, now)
        except Rejection as rejection:
            return CommandResult(command.command_id, stream_id, "rejected", rejection.detail)
        sealed = seal(state.head, command, events, now)
        for envelope, raw in sealed:
            state = evolve(state, envelope)
            plan.staged.append(archive.StagedEvent(envelope, raw, partition))
        plan.states[stream_id] = state
        return CommandResult(
            command.command_id, stream_id, "accepted", None, tuple(e.event_id for e, _ in sealed)
        )

    def _load_states(self, conn: Connection, stream_ids: set[StreamId]) -> None:
        self._drop_stale(conn, [s for s in stream_ids if s in self._cache])
        missing = [s for s in stream_ids if s not in self._cache]
        if not missing:
            return
        loaded = archive.load_streams(conn, missing)
        for stream_id in missing:
            state = initial_state(stream_id)
            for raw in loaded.get(stream_id, []):
                state = evolve(state, decode_envelope(raw))
            self._remember(stream_id, state)

    def _drop_stale(self, conn: Connection, cached: Sequence[StreamId]) -> None:
        """Forget cached streams that another decider has extended since (a zombie's cache).

        Accepting on a stale state is fenced by the archive's unique key anyway; a
        rejection writes no event, so without this check it could stand on old facts.
        """
        heads = dict.fromkeys(cached, 0)
        for chunk in chunks(sorted(cached), select_chunk_size()):
            rows = conn.execute(
                select(audit_archive.c.stream_id, func.max(audit_archive.c.sequence))
                .where(audit_archive.c.stream_id.in_(chunk))
                .group_by(audit_archive.c.stream_id)
            )
            heads.update({StreamId(stream_id): int(n) for stream_id, n in rows})
        for stream_id, sequence in heads.items():
            if self._cache[stream_id].head.sequence != sequence:
                del self._cache[stream_id]

    def _remember(self, stream_id: StreamId, state: StreamState) -> None:
        self._cache[stream_id] = state
        self._cache.move_to_end(stream_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    # --- publishing ---------------------------------------------------------------

    async def _publish(self, plan: _Plan) -> None:
        placed = await self._publish_events(plan.staged)
        accepted = [
            _with_positions(result, placed)
            for result, _ in plan.new_results
            if result.status == "accepted"
        ]
        if placed or accepted:
            await asyncio.to_thread(
                self._with_conn_begin,
                lambda conn: archive.record_positions(
                    conn, [(e, p.partition, p.offset) for e, p in placed.items()], accepted
                ),
            )
        by_id = {r.command_id: r for r in accepted}
        answers = [by_id.get(a.command_id, a) for a in plan.answers] + accepted
        await self._log.publish_results([(a.command_id, encode_result(a)) for a in answers])

    async def _publish_events(self, staged: Sequence[archive.StagedEvent]) -> dict[str, Position]:
        by_partition: dict[int, list[archive.StagedEvent]] = {}
        for event in staged:
            by_partition.setdefault(event.partition, []).append(event)

        async def one(partition: int, events: list[archive.StagedEvent]) -> dict[str, Position]:
            offsets = await self._log.publish_events(
                partition, [(e.envelope.stream_id, e.raw) for e in events]
            )
            return {
                e.envelope.event_id: Position(partition, o)
                for e, o in zip(events, offsets, strict=True)
            }

        placed: dict[str, Position] = {}
        for part in await asyncio.gather(*(one(p, ev) for p, ev in by_partition.items())):
            placed.update(part)
        return placed

    # --- reconciling --------------------------------------------------------------

    async def _reconcile(self, partition: int, *, owned_only: bool = False) -> None:
        pending = await asyncio.to_thread(self._with_conn, archive.pending, partition)
        if pending:
            start = await asyncio.to_thread(self._with_conn, archive.end_offset, partition)
            tail = await self._log.read_events(partition, start)
            if owned_only and partition not in self._assigned:
                log.info(
                    "partition %d moved during reconciliation; its owner settles it", partition
                )
                return
            await self._settle(partition, pending, tail)
        self._reconciled.add(partition)

    async def _settle(
        self,
        partition: int,
        pending: Sequence[archive.ArchivedEvent],
        tail: Sequence[tuple[int, bytes]],
    ) -> None:
        in_log: dict[str, int] = {}
        for offset, raw in tail:
            try:
                event_id = json.loads(raw)["event_id"]
            except (ValueError, KeyError, TypeError):
                log.error("partition %d offset %d holds an unreadable event", partition, offset)
                continue
            in_log.setdefault(str(event_id), offset)
        placed = {
            e.event_id: Position(partition, in_log[e.event_id])
            for e in pending
            if e.event_id in in_log
        }
        missing = [e for e in pending if e.event_id not in in_log]
        if missing:
            offsets = await self._log.publish_events(
                partition, [(e.stream_id, e.raw) for e in missing]
            )
            placed.update(
                {e.event_id: Position(partition, o) for e, o in zip(missing, offsets, strict=True)}
            )
        commands = {decode_envelope(e.raw).command_id for e in pending}

        def settle(conn: Connection) -> list[CommandResult]:
            stored = archive.find_results(conn, commands)
            results = [
                _with_positions(s.result, placed) for s in stored.values() if not s.published
            ]
            archive.record_positions(
                conn, [(e, p.partition, p.offset) for e, p in placed.items()], results
            )
            return results

        results = await asyncio.to_thread(self._with_conn_begin, settle)
        log.warning(
            "partition %d: published %d pending event(s), found %d already in the log",
            partition, len(missing), len(pending) - len(missing),
        )  # fmt: skip
        await self._log.publish_results([(r.command_id, encode_result(r)) for r in results])

    # --- helpers ------------------------------------------------------------------

    def _with_conn(self, fn: Callable[[Connection, int], T], partition: int) -> T:
        with self._engine.connect() as conn:
            return fn(conn, partition)

    def _with_conn_begin(self, fn: Callable[[Connection], T]) -> T:
        with self._engine.begin() as conn:
            return fn(conn)


def _with_positions(result: CommandResult, placed: dict[str, Position]) -> CommandResult:
    positions = tuple(placed[e] for e in result.event_ids if e in placed)
    return CommandResult(
        result.command_id, result.stream_id, result.status, result.rejection, result.event_ids,
        positions or result.positions,
    )  # fmt: skip


def _in_flight(earlier: archive.StoredResult | None, digest: str, in_this_batch: bool) -> bool:
    """Whether another decider stored this very command's answer and is still publishing.

    Answering it from here would confirm events that may not be in the log yet.
    """
    return (
        earlier is not None
        and not in_this_batch
        and not earlier.published
        and earlier.fingerprint == digest
    )


def _repeat(
    previous: tuple[CommandResult, str], command: CommandEnvelope, digest: str
) -> CommandResult:
    result, earlier_digest = previous
    if earlier_digest == digest:
        return result
    return CommandResult(
        command.command_id,
        command.stream_id,
        "rejected",
        RejectionDetail(
            "COMMAND_ID_REUSED",
            f"command id {command.command_id} was already used for a different command",
            "command_id",
        ),
    )


def _undecodable(raw: bytes, error: DomainError) -> CommandResult | None:
    """A rejection for a command that does not decode, if it names its id and stream."""
    try:
        data = json.loads(raw)
        command_id, stream_id = str(data["command_id"]), str(data.get("stream_id", ""))
    except (ValueError, KeyError, TypeError):
        return None
    field = getattr(error, "field", None)
    return CommandResult(
        CommandId(command_id),
        StreamId(stream_id),
        "rejected",
        RejectionDetail("INVALID_COMMAND", str(error), field),
    )
