"""The access log: who read which confidential record, and every credential change.

The API records a request's reads before it answers, so an answer is never sent
whose read is not on record; when the log cannot be written the read is refused
(ACCESS_LOG_UNAVAILABLE) rather than answered unrecorded. Requests share commits:
while one batch is being written the next one gathers, so concurrent readers wait
for one commit, not for one each. Credential changes are written by
:mod:`credentials` in the transaction that makes them.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, insert, select

from accountability.events.commands import Actor
from accountability.graphql.access_reads import AccessRecord, Read
from accountability.projections.paging import CursorError, Page, decode_cursor, encode_cursor

from .store import access_log

log = logging.getLogger(__name__)

PUBLIC: Final = "public"
OPERATOR: Final = "operator"


class AccessLogUnavailable(RuntimeError):
    """The entries could not be written; the reads they record must not be answered."""


def entry(
    *,
    at: datetime,
    principal_id: str,
    role: str,
    member_state: str | None,
    action: str,
    outcome: str,
    ids: Sequence[str] = (),
    arguments: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One row of the access log."""
    return {
        "at": at,
        "principal_id": principal_id,
        "role": role,
        "member_state": member_state,
        "action": action,
        "outcome": outcome,
        "ids": json.dumps(list(ids)),
        "arguments": json.dumps(arguments or {}, sort_keys=True, default=str),
    }


def insert_entries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(access_log), list(rows))


def read_entries(
    conn: Connection,
    *,
    first: int,
    after: str | None = None,
    principal_id: str | None = None,
    since: datetime | None = None,
) -> Page[AccessRecord]:
    """Entries oldest first, keyset-paginated by their id."""
    c = access_log.c
    query = select(access_log)
    if after is not None:
        (last,) = decode_cursor(after, 1)
        if not isinstance(last, int):
            raise CursorError(f"malformed cursor '{after}'")
        query = query.where(c.entry_id > last)
    if principal_id is not None:
        query = query.where(c.principal_id == principal_id)
    if since is not None:
        query = query.where(c.at >= since)
    rows = conn.execute(query.order_by(c.entry_id).limit(first + 1)).mappings().all()
    items = [
        AccessRecord(
            entry_id=row["entry_id"],
            at=row["at"],
            principal_id=row["principal_id"],
            role=row["role"],
            member_state=row["member_state"],
            action=row["action"],
            outcome=row["outcome"],
            ids=json.loads(row["ids"]),
            arguments=json.loads(row["arguments"]),
            cursor=encode_cursor(row["entry_id"]),
        )
        for row in rows[:first]
    ]
    return Page(items, len(rows) > first, items[-1].cursor if items else None)


class AccessLog:
    """Records the API's reads in shared commits, and reads the log back for oversight."""

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._pending: list[tuple[list[dict[str, Any]], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, actor: Actor | None, reads: Sequence[Read]) -> None:
        """Write ``reads`` durably; raises AccessLogUnavailable when that fails."""
        if not reads:
            return
        at = self._clock()
        rows = [
            entry(
                at=at,
                principal_id=actor.principal_id if actor else PUBLIC,
                role=actor.role.value if actor else PUBLIC,
                member_state=actor.member_state if actor else None,
                action=read.action,
                outcome=read.outcome,
                ids=read.ids,
                arguments=read.arguments,
            )
            for read in reads
        ]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())
        await done

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._write, [row for rows, _ in batch for row in rows])
            except Exception as exc:
                log.exception("the access log could not be written; %d reads refused", len(batch))
                failure = AccessLogUnavailable(f"the access log could not be written: {exc}")
                for _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self._engine.begin() as conn:
            insert_entries(conn, rows)

    async def page(
        self, *, first: int, after: str | None, principal_id: str | None, since: datetime | None
    ) -> Page[AccessRecord]:
        def read() -> Page[AccessRecord]:
            with self._engine.connect() as conn:
                return read_entries(
                    conn, first=first, after=after, principal_id=principal_id, since=since
                )

        return await asyncio.to_thread(read)

    def close(self) -> None:
        self._engine.dispose()
