"""The live projector: batches of events into every read model, one transaction each.

A record a read model cannot apply becomes a dead letter inside the batch's
transaction (``projections/runner.py``) and is then published to the dead-letter
topic; the batch itself always commits, so a poison event never stops the worker.
A database that does not answer is retried a few times, then the worker stops (and
is restarted) rather than skipping anything.
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Final, Protocol

from sqlalchemy import Connection, Engine

from accountability.projections.runner import (
    BatchReport,
    Projection,
    RawRecord,
    apply_records,
    is_transient,
)

log = logging.getLogger(__name__)

RETRY_DELAYS: Final = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Seconds between attempts at a batch the database refused (locked, unreachable)."""


class BatchCounter(Protocol):
    def __call__(self, conn: Connection, report: BatchReport) -> None:
        """Count what a batch did, in its transaction."""


class Outbox(Protocol):
    async def flush(self) -> int:
        """Publish the dead letters not yet published; return how many."""


class Projector:
    def __init__(
        self,
        engine: Engine,
        projections: Sequence[Projection],
        *,
        count: BatchCounter | None = None,
        outbox: Outbox | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._engine = engine
        self._projections = list(projections)
        self._count = count
        self._outbox = outbox
        self._retry_delays = list(retry_delays)

    async def handle(self, batch: Sequence[RawRecord]) -> BatchReport:
        report = await asyncio.to_thread(self.apply, batch)
        if report.dead_lettered:
            log.error(
                "dead letters recorded: %s",
                ", ".join(
                    f"{p}[{n}] {k.value} x{c}" for (p, n, k), c in report.dead_lettered.items()
                ),
            )
            if self._outbox is not None:
                await self._outbox.flush()
        return report

    def apply(self, batch: Sequence[RawRecord]) -> BatchReport:
        for delay in [*self._retry_delays, None]:
            try:
                return self._apply_once(batch)
            except Exception as exc:
                if delay is None or not is_transient(exc):
                    raise
                log.warning(
                    "projector batch refused by the database (%s); again in %ss", exc, delay
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply_once(self, batch: Sequence[RawRecord]) -> BatchReport:
        with self._engine.begin() as conn:
            report = apply_records(conn, self._projections, batch)
            if self._count is not None:
                self._count(conn, report)
        return report
