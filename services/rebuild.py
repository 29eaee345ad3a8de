"""Rebuild read models from offset 0, reading the log directly in large batches.

A rebuild does not go through Faust: Faust spends about 70 µs on every event
(BROKER.md), a ceiling of some 14,000 events/s; it reads the log in large batches
(``log_reader.py``). Batches are applied with the same
``apply_batch`` as the live projector, each in its own transaction with its
checkpoints, so a rebuild that stops half-way resumes where it stopped.

This module fills a database; ``blue_green.py`` rebuilds beside the live read
models and switches, ``stream_rebuild.py`` rebuilds one stream in place.
"""

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from accountability.projections import all_projections
from accountability.projections.runner import Projection, load_checkpoints
from accountability.projections.sql import metadata as read_models

from .log_reader import Progress, apply_log
from .rebuild_workers import rebuild_in_processes

BATCH_SIZE = 20_000
"""Events per transaction of a rebuild. Larger batches close more of a case's versions
before they are written and fetch fewer rows per event: 20,000 against 5,000 took
15 to 20% less time on SQLite and PostgreSQL (100,000 benchmark events, ADR 24)."""


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def reset_read_models(engine: Engine) -> None:
    all_projections()  # their modules define the tables
    read_models.drop_all(engine)
    read_models.create_all(engine)


def rebuild_into(
    engine: Engine,
    bootstrap: str,
    partitions: int,
    *,
    projections: Sequence[Projection] | None = None,
    batch_size: int = BATCH_SIZE,
    fresh: bool = True,
    until: datetime | None = None,
    progress: Progress | None = None,
    processes: int | None = None,
) -> RebuildReport:
    """Rebuild the read models in ``engine`` from the log; resume unless ``fresh``.

    ``until`` stops at the log as it stood at that instant (see :func:`read_log`).
    On PostgreSQL the partitions are shared out among ``processes`` (default: one
    per CPU, at most one per partition), since every read model keeps each
    partition's rows apart; SQLite's writers take turns, so it gets one process.
    """
    chosen = list(projections or all_projections())
    if fresh:
        reset_read_models(engine)
    with engine.connect() as conn:
        done = [load_checkpoints(conn, p.name) for p in chosen]
    start = {p: min(d.get(p, 0) for d in done) for p in range(partitions)}
    if processes is None:
        processes = (os.cpu_count() or 1) if engine.dialect.name == "postgresql" else 1
    processes = max(1, min(processes, partitions))
    started = time.perf_counter()
    if processes == 1:
        everything = apply_log(
            engine, chosen, bootstrap, range(partitions), start,
            batch_size=batch_size, until=until, progress=progress,
        )  # fmt: skip
        count = asyncio.run(everything)
    else:
        count = rebuild_in_processes(
            engine, [p.name for p in chosen], bootstrap, partitions, start,
            processes=processes, batch_size=batch_size, until=until, progress=progress,
        )  # fmt: skip
    return RebuildReport(count, time.perf_counter() - started)
