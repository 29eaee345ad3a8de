"""The timed runs of ``accountability bench`` that read a log already on a broker.

Each returns what it measured; ``bench.py`` repeats them and keeps every sample.
"""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from . import db
from .checkpoints import publish_checkpoint
from .rebuild import RebuildReport, rebuild_into
from .verify_live import verify_live


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed run: how many events (or commands, or requests) in how long."""

    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _admin(admin_url: str):  # type: ignore[no-untyped-def]
    url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for the duration; its URL."""
    admin = _admin(admin_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rebuild(url: str, bootstrap: str, partitions: int, processes: int | None = None) -> Sample:
    """Rebuild every read model from offset 0 into the (emptied) database at ``url``."""
    engine = db.create(url)
    try:
        db.create_schema(engine)
        report: RebuildReport = rebuild_into(engine, bootstrap, partitions, processes=processes)
        return Sample(report.events, report.seconds)
    finally:
        engine.dispose()


def sign_checkpoint(url: str, key_path: Path, partitions: int) -> None:
    """Sign a checkpoint of the rebuilt ledger, so that verifying checks the whole tree."""
    engine = db.create(url)
    try:
        publish_checkpoint(engine, key_path, datetime.now(UTC), partitions=partitions)
    finally:
        engine.dispose()


def verify(url: str, bootstrap: str, partitions: int) -> Sample:
    """``accountability verify`` on the live log: chains, trees, the checkpoint's signature."""
    engine = db.create(url)
    try:
        report = verify_live(engine, bootstrap, partitions)
    finally:
        engine.dispose()
    if not report.ok:
        raise RuntimeError("the benchmark log did not verify:\n" + report.render())
    return Sample(report.events, report.seconds)


def baseline(bootstrap: str, workdir: Path, limit: int, timeout: float) -> Sample:
    """The Faust agent committing one event per transaction, on the first ``limit`` events."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "baseline.json"
    report.unlink(missing_ok=True)
    url = f"sqlite:///{workdir / 'baseline.db'}"
    Path(workdir / "baseline.db").unlink(missing_ok=True)
    with (workdir / "baseline.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "accountability.services.bench_baseline",
             bootstrap, url, str(limit), str(report)],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    try:
        while not report.exists():
            if process.poll() is not None:
                raise RuntimeError(f"the baseline stopped; see {workdir / 'baseline.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the baseline did not finish {limit} events in {timeout}s")
            time.sleep(0.5)
        time.sleep(0.2)
        data = json.loads(report.read_text())
        return Sample(int(data["events"]), float(data["seconds"]))
    finally:
        process.terminate()
        process.wait(30)
