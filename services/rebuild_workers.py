"""A rebuild shared out among processes, each applying some partitions of the log.

Every read model keeps each partition's rows apart (a stream lives in one partition;
the ledger has a tree per partition), so processes that each take a subset of the
partitions never write the same row. Python spends most of a rebuild in its own
code, one core per process; PostgreSQL takes the concurrent writers. Each process
starts fresh (``spawn``: nothing of the parent's engines or event loops is
inherited) and reports its progress, and any failure, on a queue.
"""

import asyncio
import multiprocessing
import queue
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.queues import Queue
from typing import Any

from sqlalchemy import Engine

from accountability.projections import all_projections

from . import db
from .log_reader import Progress, apply_log


class RebuildFailed(RuntimeError):
    """A rebuild process failed; its message says which partitions and why."""


@dataclass(frozen=True, slots=True)
class _Task:
    index: int
    url: str
    options: dict[str, Any]
    names: tuple[str, ...]
    bootstrap: str
    partitions: tuple[int, ...]
    start: dict[int, int]
    batch_size: int
    until: datetime | None


def rebuild_in_processes(
    engine: Engine,
    names: Sequence[str],
    bootstrap: str,
    partitions: int,
    start: dict[int, int],
    *,
    processes: int,
    batch_size: int,
    until: datetime | None,
    progress: Progress | None,
) -> int:
    """Apply the log with ``processes`` processes; the events applied in all."""
    context = multiprocessing.get_context("spawn")
    reports: Queue[tuple[str, int, Any, Any]] = context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    options = dict(engine.get_execution_options())
    tasks = [
        _Task(i, url, options, tuple(names), bootstrap,
              tuple(p for p in range(partitions) if p % processes == i),
              {p: start.get(p, 0) for p in range(partitions) if p % processes == i},
              batch_size, until)
        for i in range(processes)
    ]  # fmt: skip
    workers = [context.Process(target=_run, args=(task, reports), daemon=True) for task in tasks]
    for worker in workers:
        worker.start()
    seen: dict[int, tuple[int, int | None]] = {}
    applied: dict[int, int] = {}
    failures: dict[int, str] = {}
    try:
        while len(applied) + len(failures) < len(workers):
            try:
                kind, index, first, second = reports.get(timeout=1.0)
            except queue.Empty:
                for index, worker in enumerate(workers):
                    if worker.exitcode not in (None, 0) and index not in failures:
                        failures[index] = f"its process exited with code {worker.exitcode}"
                continue
            if kind == "progress":
                seen[index] = (first, second)
                if progress is not None and len(seen) == len(workers):
                    totals = [t for _, t in seen.values()]
                    known = None if None in totals else sum(t or 0 for t in totals)
                    progress(sum(r for r, _ in seen.values()), known)
            elif kind == "done":
                applied[index] = first
            else:
                failures[index] = first
    finally:
        for worker in workers:
            worker.join(timeout=5 if failures else None)
            if worker.is_alive():
                worker.terminate()
    if failures:
        raise RebuildFailed(
            "; ".join(
                f"partitions {tasks[i].partitions}: {why}" for i, why in sorted(failures.items())
            )
        )
    return sum(applied.values())


def _run(task: _Task, reports: "Queue[tuple[str, int, Any, Any]]") -> None:
    try:
        engine = db.create(task.url).execution_options(**task.options)
        chosen = [p for p in all_projections() if p.name in task.names]

        def progress(read: int, total: int | None) -> None:
            reports.put(("progress", task.index, read, total))

        count = asyncio.run(
            apply_log(
                engine, chosen, task.bootstrap, task.partitions, task.start,
                batch_size=task.batch_size, until=task.until, progress=progress,
            )
        )  # fmt: skip
        engine.dispose()
        reports.put(("done", task.index, count, None))
    except Exception as exc:  # reported to the parent, which raises RebuildFailed
        reports.put(("failed", task.index, f"{type(exc).__name__}: {exc}", None))
