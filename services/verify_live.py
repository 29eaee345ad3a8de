"""Verify the log as the broker holds it, sharing the partitions out among processes.

Each partition's checks (offsets, hashes, chains, its tree against the checkpoints)
need nothing from another partition, and a stream lives in one partition, so each
process verifies some partitions with its own :class:`~.verify.LogVerifier` and its
own consumer; the parent absorbs their findings and does what needs all of them at
once: the signatures, checked against every key of the log, and the report. One
process a CPU, at most one a partition; decoding JSON is most of the work and holds
one core per process.
"""

import asyncio
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, inspect

from accountability.events import merkle
from accountability.projections import ledger
from accountability.projections.ledger import Checkpoint

from . import db
from .log_reader import read_log
from .verify import (
    LogVerifier,
    PartialVerification,
    VerifyReport,
    read_public_key,
    without_cyclic_gc,
)


class VerifyFailed(RuntimeError):
    """A verifying process failed before it could report (not a problem of the log)."""


def verify_live(
    engine: Engine,
    bootstrap: str,
    partitions: int,
    public_key_pem: str | None = None,
    *,
    processes: int | None = None,
) -> VerifyReport:
    """Verify the log as the broker holds it against the checkpoints in the database.

    Without ``public_key_pem`` the key recorded with the latest checkpoint is used;
    pass the key you trust (``accountability verify`` passes the signing key's).
    """
    started = time.perf_counter()
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        checkpoints = ledger.all_checkpoints(conn) if "ledger_checkpoints" in tables else []
        if public_key_pem is None and checkpoints:
            public_key_pem = ledger.public_key_of(conn, checkpoints[-1].key_id)
    key, key_problem = read_public_key(public_key_pem)
    verifier = LogVerifier(checkpoints, key, listing="the ledger")
    if key_problem is not None:
        verifier.add_problem(key_problem)
    processes = max(1, min(processes or os.cpu_count() or 1, partitions))
    shares = [tuple(p for p in range(partitions) if p % processes == i) for i in range(processes)]
    if processes == 1:
        verifier.absorb(
            _verify_partitions(engine, bootstrap, shares[0], checkpoints, public_key_pem)
        )
    else:
        task = _Task(
            engine.url.render_as_string(hide_password=False), bootstrap, checkpoints, public_key_pem
        )
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes) as pool:
            try:
                for partial in pool.map(task.run, shares):
                    verifier.absorb(partial)
            except Exception as exc:
                raise VerifyFailed(f"a verifying process failed: {exc}") from exc
    return verifier.finish(f"the live log at {bootstrap}", time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class _Task:
    url: str
    bootstrap: str
    checkpoints: list[Checkpoint]
    public_key_pem: str | None

    def run(self, share: Sequence[int]) -> PartialVerification:
        engine = db.create(self.url)
        try:
            return _verify_partitions(
                engine, self.bootstrap, share, self.checkpoints, self.public_key_pem
            )
        finally:
            engine.dispose()


def _verify_partitions(
    engine: Engine,
    bootstrap: str,
    share: Sequence[int],
    checkpoints: Sequence[Checkpoint],
    public_key_pem: str | None,
) -> PartialVerification:
    """One verifier's pass over ``share``: its events, against the ledger's listed leaves."""
    key, _ = read_public_key(public_key_pem)  # a bad key is reported once, by the parent
    verifier = LogVerifier(checkpoints, key, listing="the ledger")

    def load_leaves() -> dict[int, bytes]:
        leaves: dict[int, bytes] = {}
        with engine.connect() as conn:
            if "ledger_nodes" in set(inspect(conn).get_table_names()):
                for partition in share:
                    if column := ledger.leaf_column(conn, partition):
                        leaves[partition] = column
        return leaves

    async def run() -> None:
        feed = verifier.feed
        # The ledger's leaves load on a thread while the consumer connects and fetches.
        loading = asyncio.create_task(asyncio.to_thread(load_leaves))
        listed = None
        async for batch in read_log(bootstrap, share):
            if listed is None:
                listed = _listing(await loading)
            for partition, offset, value in batch:
                feed(partition, offset, value, listed(partition, offset))
        await loading

    with without_cyclic_gc():
        asyncio.run(run())
    return verifier.partial()


def _listing(leaves: dict[int, bytes]) -> Callable[[int, int], bytes | None]:
    size = merkle.HASH_SIZE

    def listed(partition: int, offset: int) -> bytes | None:
        column = leaves.get(partition)
        start = offset * size
        if column is None or start + size > len(column):
            return None
        return column[start : start + size]

    return listed
