"""Replay dead letters through the same projection code, once that code is fixed.

A scope's open letters (``dead_letters.py``) are applied in log order, each in its own
savepoint, and marked replayed; the replay stops at the first that still fails, which
stays open with the new reason, and the letters after it stay parked. The checkpoint
rows of the partitions involved are locked first, so a replay and a live batch of the
same partition take turns (PostgreSQL); SQLite's writers take turns anyway.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from . import dead_letters as letters
from .dead_letters import LetterKind
from .runner import Projection, decode_records, describe, is_transient, lock_checkpoints


@dataclass(frozen=True, slots=True)
class ReplayReport:
    projection: str
    scope: str
    replayed: list[int] = field(default_factory=list)
    """The letters applied, in log order."""
    failed: int | None = None
    """The letter that still fails, if any: it and the rest of its scope stay open."""
    error: str | None = None
    still_open: int = 0


def replay_scope(
    conn: Connection, projection: Projection, scope: str, now: datetime
) -> ReplayReport:
    """Apply ``scope``'s open dead letters of ``projection`` in log order, in ``conn``'s
    transaction; stop at the first that still fails."""
    replayed: list[int] = []
    locked: set[int] = set()
    while (letter := letters.next_open(conn, projection.name, scope)) is not None:
        if letter.partition not in locked:
            lock_checkpoints(conn, [projection.name], [letter.partition], now)
            locked.add(letter.partition)
            continue  # read the head again now that the partition is held
        failure = _apply_one(conn, projection, letter)
        if failure is not None:
            kind, reason = failure
            letters.mark_failed_again(conn, letter.letter_id, kind, reason)
            still_open = letters.count_open(conn, projection.name, scope)
            return ReplayReport(
                projection.name, scope, replayed, letter.letter_id, reason, still_open
            )
        letters.mark_replayed(conn, letter.letter_id, now)
        replayed.append(letter.letter_id)
    return ReplayReport(projection.name, scope, replayed)


def _apply_one(
    conn: Connection, projection: Projection, letter: letters.DeadLetter
) -> tuple[LetterKind, str] | None:
    """Apply one letter's record in a savepoint; on failure, why."""
    records, failures = decode_records([(letter.partition, letter.offset, letter.record)])
    if failures:
        return LetterKind.UNDECODABLE, failures[0][2]
    try:
        with conn.begin_nested():
            projection.apply(conn, records)
    except Exception as exc:
        if is_transient(exc):
            raise
        return LetterKind.FAILED, describe(exc)
    return None
