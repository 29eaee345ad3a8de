"""The embedded stack as an object: broker, worker and API processes on one machine.

Start order: broker, topics, log restored from the archive (refusing a broken
chain), projector offsets, workers, API. Stop order: API, workers, broker. Each
child runs in its own session and receives SIGTERM if its parent dies, so none
outlives the process that started it. ``accountability run``, the benchmark and
the end-to-end tests all use this one class.

Several workers (``ACCOUNTABILITY_WORKERS``) form one consumer group and share the
partitions, writing to the same database; on SQLite their writers take turns
(``BEGIN IMMEDIATE`` with a busy timeout, ``db.py``).
"""

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import Engine

from . import db, metrics
from .broker import EmbeddedBroker, die_with_parent, split_host_port
from .kafka import ensure_topics
from .restore import RestoreReport, commit_projector_offsets, restore_log
from .settings import Settings
from .worker.main import ready_file

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    """A part of the stack did not start or stopped unexpectedly."""


@dataclass
class Child:
    """A child process of the stack, its output kept in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    _log: IO[bytes] | None = None
    _stopping: bool = False

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - sets a signal flag only
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        self._close_log()

    def request_stop(self) -> None:
        """SIGTERM now; :meth:`stop` then waits. Lets several children stop together."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self._stopping = True

    def stop(self, timeout: float) -> None:
        process, self.process = self.process, None
        stopping, self._stopping = self._stopping, False
        if process is not None and process.poll() is None:
            if not stopping:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
                process.kill()
                process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def wait_until(check: Callable[[], bool], timeout: float, what: str, *alive: Child) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for child in alive:
            if not child.alive():
                raise StackError(f"the {child.name} stopped while {what}:\n{child.tail()}")
        if time.monotonic() > deadline:
            raise StackError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


class EmbeddedStack:
    def __init__(self, settings: Settings, *, workers: int | None = None) -> None:
        """``workers`` worker processes (default: the ``workers`` setting)."""
        self.settings = settings
        self.engine: Engine | None = None
        self.broker: EmbeddedBroker | None = None
        self.restore_report: RestoreReport | None = None
        env = {**os.environ, **settings.as_environment()}
        logs = settings.data_dir / "logs"
        python = [sys.executable, "-m", "accountability.services.cli"]
        count = settings.workers if workers is None else workers
        if count < 1:
            raise StackError(f"the stack needs at least one worker, not {count}")
        names = ["worker"] if count == 1 else [f"worker-{n}" for n in range(count)]
        self.workers = [
            Child(name, [*python, "worker"], env, logs / f"{name}.log") for name in names
        ]
        self.api = Child("api", [*python, "api"], env, logs / "api.log")

    @property
    def worker(self) -> Child:
        """The first worker (the only one, by default)."""
        return self.workers[0]

    @property
    def url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    def start_broker(self) -> Engine:
        """Start the broker and restore its log; the database is created if missing."""
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine = db.create(settings.database_url)
        db.create_schema(engine)
        metrics.create_tables(engine)
        host, port = split_host_port(settings.kafka_bootstrap_servers)
        self.broker = EmbeddedBroker(host, port, settings.data_dir / "logs" / "broker.log")
        self.broker.start()
        ensure_topics(settings)
        self.restore_report = restore_log(engine, self.broker.bootstrap, settings.topic_partitions)
        commit_projector_offsets(
            engine, self.broker.bootstrap, settings.worker_id, settings.topic_partitions
        )
        return engine

    def start_worker(self, timeout: float = 90.0) -> None:
        """Start every worker that is not running, together; wait until each owns partitions."""
        starting = [w for w in self.workers if not w.alive()]
        for worker in starting:
            worker.start()
        wait_until(
            lambda: all(self.ready(w) for w in starting),
            timeout,
            "the workers to join their consumer group",
            *starting,
        )

    def ready(self, worker: Child) -> bool:
        pid = worker.pid
        return pid is not None and ready_file(self.settings, pid).exists()

    def worker_ready(self) -> bool:
        return all(self.ready(w) for w in self.workers)

    def start_api(self, timeout: float = 60.0) -> None:
        self.api.start()
        wait_until(self.api_ready, timeout, "the API to be ready", self.api)

    def api_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def start(self) -> Engine:
        try:
            engine = self.start_broker()
            self.start_worker()
            self.start_api()
        except BaseException:
            self.stop()
            raise
        return engine

    def stop(self) -> None:
        self.api.stop(timeout=10)
        for worker in self.workers:
            worker.request_stop()
        for worker in self.workers:
            worker.stop(timeout=20)
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def __enter__(self) -> "EmbeddedStack":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
