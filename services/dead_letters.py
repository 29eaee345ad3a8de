"""Dead letters as a service: to their topic, replayed, listed, and served to the API.

The read models record a dead letter in SQL, in the transaction of the batch that met
it (``projections/dead_letters.py``); :class:`DeadLetterOutbox` then publishes it to
``accountability.dead-letters``: the record's exact bytes as the value, where it came
from and why in the headers, keyed by projection, partition and offset. A replay or any
other change of a letter is published again under the same key, so the latest message
per key states the letter's current status. Publishing is at least once.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine

from accountability.projections import all_projections
from accountability.projections import dead_letters as letters
from accountability.projections.dead_letters import DeadLetter, LetterStatus
from accountability.projections.replay import ReplayReport, replay_scope
from accountability.projections.runner import Projection

from . import db, metrics
from .settings import Settings
from .topics import EVENTS

log = logging.getLogger(__name__)

Message = tuple[str, bytes, list[tuple[str, bytes]]]
"""(key, value, headers) of one dead-letter message."""


class UnknownDeadLetter(LookupError):
    def __init__(self, letter_id: int) -> None:
        super().__init__(f"no dead letter {letter_id}")
        self.letter_id = letter_id


class DeadLetterSink(Protocol):
    async def publish_dead_letters(self, messages: Sequence[Message]) -> None:
        """Append ``messages`` to the dead-letter topic; return once they are stored."""


def message_of(letter: DeadLetter) -> Message:
    headers = {
        "dead-letter-id": str(letter.letter_id),
        "projection": letter.projection,
        "source-topic": EVENTS,
        "source-partition": str(letter.partition),
        "source-offset": str(letter.offset),
        "kind": letter.kind.value,
        "status": letter.status.value,
        "reason": letter.reason,
        "stream-id": letter.stream_id or "",
        "event-id": letter.event_id or "",
        "failed-at": letter.failed_at.isoformat(),
        "attempts": str(letter.attempts),
    }
    key = f"{letter.projection}/{letter.partition}/{letter.offset}"
    return key, letter.record, [(k, v.encode("utf-8")) for k, v in headers.items()]


class DeadLetterOutbox:
    """Publishes every letter whose latest revision is not in the topic yet."""

    def __init__(self, engine: Engine, sink: DeadLetterSink, batch: int = 500) -> None:
        self._engine = engine
        self._sink = sink
        self._batch = batch
        self._lock = asyncio.Lock()

    async def flush(self) -> int:
        published = 0
        async with self._lock:
            while True:
                pending = await asyncio.to_thread(self._read, letters.unpublished, self._batch)
                if not pending:
                    return published
                await self._sink.publish_dead_letters([message_of(x) for x in pending])
                done = [(x.letter_id, x.revision) for x in pending]
                await asyncio.to_thread(self._write, letters.mark_published, done)
                published += len(pending)
                if len(pending) < self._batch:
                    return published

    def _read(self, fn: Callable[[Connection, int], list[DeadLetter]], n: int) -> list[DeadLetter]:
        with self._engine.connect() as conn:
            return fn(conn, n)

    def _write(
        self, fn: Callable[[Connection, list[tuple[int, int]]], None], done: list[tuple[int, int]]
    ) -> None:
        with self._engine.begin() as conn:
            fn(conn, done)


# --- replaying -----------------------------------------------------------------------------


def replay(
    engine: Engine,
    letter_id: int | None = None,
    *,
    projections: Sequence[Projection] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[ReplayReport]:
    """Replay one letter's scope (``letter_id``), or every scope with an open letter.

    Replaying a letter replays its scope from the first open letter, in log order: a
    stream's events are never applied out of order. Each scope is its own transaction,
    so one that still fails leaves the others replayed.
    """
    by_name = {p.name: p for p in (projections or all_projections())}
    with engine.connect() as conn:
        if letter_id is None:
            heads = letters.open_heads(conn)
        else:
            letter = letters.get_letter(conn, letter_id)
            if letter is None:
                raise UnknownDeadLetter(letter_id)
            heads = [(letter.projection, letter.scope)]
    reports: list[ReplayReport] = []
    for name, scope in heads:
        projection = by_name.get(name)
        if projection is None:
            reports.append(_unknown_projection(engine, name, scope))
            continue
        with engine.begin() as conn:
            report = replay_scope(conn, projection, scope, now())
            _count(conn, report, projection.name)
        reports.append(report)
    return reports


def _unknown_projection(engine: Engine, name: str, scope: str) -> ReplayReport:
    with engine.connect() as conn:
        head = letters.next_open(conn, name, scope)
        still_open = letters.count_open(conn, name, scope)
    error = f"this version has no projection named {name}"
    log.error("dead letters of %s cannot be replayed: %s", scope, error)
    return ReplayReport(name, scope, [], head.letter_id if head else None, error, still_open)


def _count(conn: Connection, report: ReplayReport, projection: str) -> None:
    if not report.replayed:
        return
    rows = conn.execute(
        letters.dead_letters.select().where(letters.dead_letters.c.letter_id.in_(report.replayed))
    ).all()
    amounts: Counter[metrics.CounterKey] = Counter()
    for row in rows:
        partition = int(row.partition)
        amounts[metrics.counter_key(metrics.EVENTS_APPLIED, partition, projection=projection)] += 1
        amounts[
            metrics.counter_key(metrics.DEAD_LETTERS_REPLAYED, partition, projection=projection)
        ] += 1
    metrics.increment(conn, amounts)


# --- the command line --------------------------------------------------------------------


def cmd_list(settings: Settings, *, open_only: bool, limit: int) -> int:
    engine = db.create(settings.database_url)
    db.create_schema(engine)
    try:
        with engine.connect() as conn:
            status = LetterStatus.OPEN if open_only else None
            found = letters.page(conn, limit, None, status=status)
    finally:
        engine.dispose()
    if not found.items:
        print("no dead letters" + (" open" if open_only else ""))
        return 0
    for x in found.items:
        where = f"{x.partition}/{x.offset}"
        print(
            f"{x.letter_id:>6}  {x.status.value:8}  {x.kind.value:11}  {x.projection:14} "
            f"{where:>10}  {x.stream_id or '-':24} {x.reason}"
        )
    if found.has_next:
        print(f"… more than {limit}; use --limit")
    return 0


def cmd_replay(settings: Settings, letter_id: int | None) -> int:
    engine = db.create(settings.database_url)
    db.create_schema(engine)
    metrics.create_tables(engine)
    try:
        reports = replay(engine, letter_id)
    except UnknownDeadLetter as exc:
        print(f"accountability: {exc}")
        return 1
    finally:
        engine.dispose()
    if not reports:
        print("no open dead letters")
    for report in reports:
        line = f"{report.projection} {report.scope}: replayed {len(report.replayed)}"
        if report.failed is not None:
            line += (
                f"; letter {report.failed} still fails ({report.error}); "
                f"{report.still_open} stay open"
            )
        print(line)
    return 1 if any(r.failed is not None for r in reports) else 0
