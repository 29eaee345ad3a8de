"""The embedded default: broker, worker and API on one machine, stopped by Ctrl-C.

Order of start: broker, topics, log restored from the archive (refusing a broken
chain), projector offsets, worker, API. Order of stop: API, worker, broker. Each
child runs in its own session (Ctrl-C reaches only this supervisor, which stops
them in order) and receives SIGTERM if the supervisor dies, so none outlives it.
"""

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Final

from sqlalchemy import Engine

from accountability.events.vocabulary import Role

from . import credentials, db
from .demo import load_demo
from .broker import BrokerStartError, EmbeddedBroker, die_with_parent, split_host_port
from .kafka import ensure_topics
from .restore import RestoreRefused, commit_projector_offsets, restore_log
from .settings import Settings
from .worker.main import ready_file

log = logging.getLogger(__name__)

DEV_LABEL: Final = "development officer (accountability run)"
_MAX_RESTARTS: Final = 5


class Stop(Exception):
    """Raised in the main loop when a signal asks the stack to stop."""


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    _log: IO[bytes] | None = None

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

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _say(message: str) -> None:
    print(message, flush=True)


def _prepare(settings: Settings) -> tuple[EmbeddedBroker, Engine]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db.create(settings.database_url)
    db.create_schema(engine)
    host, port = split_host_port(settings.kafka_bootstrap_servers)
    broker = EmbeddedBroker(host, port, settings.data_dir / "logs" / "broker.log")
    broker.start()
    try:
        ensure_topics(settings)
        report = restore_log(engine, broker.bootstrap, settings.topic_partitions)
        if report.events:
            _say(
                f"restored {report.events} events from the audit archive in "
                f"{report.seconds:.1f}s; every hash verified"
            )
        if report.read_models_reset:
            _say("the read models no longer matched the log; they will be rebuilt from offset 0")
        commit_projector_offsets(
            engine, broker.bootstrap, settings.worker_id, settings.topic_partitions
        )
    except BaseException:
        broker.stop()
        raise
    return broker, engine


def _dev_credential(engine: Engine) -> str:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        credentials.revoke_labelled(conn, DEV_LABEL, now)
        principal = credentials.ensure_principal(
            conn,
            principal_id="dev-officer",
            name="Development officer",
            role=Role.OFFICER,
            member_state=None,
            now=now,
        )
        return credentials.issue(conn, principal, DEV_LABEL, now, timedelta(hours=24)).token


def _revoke_dev_credential(engine: Engine) -> None:
    with engine.begin() as conn:
        credentials.revoke_labelled(conn, DEV_LABEL, datetime.now(UTC))


def _children(settings: Settings) -> tuple[Child, Child]:
    env = {**os.environ, **settings.as_environment()}
    logs = settings.data_dir / "logs"
    python = [sys.executable, "-m", "accountability.services.cli"]
    return (
        Child("worker", [*python, "worker"], env, logs / "worker.log"),
        Child("api", [*python, "api"], env, logs / "api.log"),
    )


def _wait_until(check: Callable[[], bool], timeout: float, what: str, *alive: Child) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for child in alive:
            if not child.alive():
                raise RuntimeError(f"the {child.name} stopped while starting:\n{child.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.1)


def _api_ready(settings: Settings) -> bool:
    url = f"http://{settings.api_host}:{settings.api_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def run_embedded(settings: Settings, *, demo: bool, open_browser: bool) -> int:
    """Run the whole stack until SIGINT or SIGTERM; returns the exit status."""
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        raise Stop

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    broker: EmbeddedBroker | None = None
    worker, api = _children(settings)
    engine = None
    try:
        try:
            broker, engine = _prepare(settings)
        except (BrokerStartError, RestoreRefused) as exc:
            _say(f"accountability: cannot start: {exc}")
            return 2
        token = _dev_credential(engine)
        worker.start()
        _wait_until(
            lambda: ready_file(settings, worker.process.pid).exists() if worker.process else False,
            90,
            "the worker joining its consumer group",
            worker,
        )
        api.start()
        _wait_until(lambda: _api_ready(settings), 60, "the API becoming ready", api)
        url = f"http://{settings.api_host}:{settings.api_port}/graphql"
        if demo:
            _say("loading the demo dataset through the decider …")
            summary = load_demo(settings, engine, progress=_say)
            _say(summary)
        _say(
            "\nSEA accountability tracker is running (embedded: Tansu broker, SQLite).\n"
            f"  GraphiQL    {url}\n"
            f"  credential  {token}\n"
            "              a development officer; paste it in GraphiQL's Headers tab as\n"
            '              {"Authorization": "Bearer <credential>"}; revoked when this stops\n'
            f"  data        {settings.data_dir.resolve()} (logs in logs/)\n"
            "Press Ctrl-C to stop."
        )
        if open_browser:
            webbrowser.open(url)
        _supervise(broker, worker, api)
        return 1
    except Stop:
        _say("\nstopping …")
        return 0
    except RuntimeError as exc:
        _say(f"accountability: {exc}")
        return 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_IGN if s in stopping else handler)
        api.stop(timeout=10)
        worker.stop(timeout=20)
        if broker is not None:
            broker.stop()
        if engine is not None:
            _revoke_dev_credential(engine)
            engine.dispose()
        for s, handler in previous.items():
            signal.signal(s, handler)
        if stopping:
            _say("stopped.")


def _supervise(broker: EmbeddedBroker, *children: Child) -> None:
    """Keep the children running; a broker that dies takes its log with it, so stop then."""
    while True:
        time.sleep(0.5)
        if not broker.alive():
            raise RuntimeError(
                "the embedded broker stopped; start again to restore its log from the archive"
            )
        for child in children:
            if child.alive():
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            if len(child.restarts) > _MAX_RESTARTS:
                raise RuntimeError(f"the {child.name} keeps stopping:\n{child.tail()}")
            log.warning("the %s stopped; restarting it. Last lines:\n%s", child.name, child.tail())
            child.stop(timeout=1)
            child.start()


def run_broker_only(settings: Settings) -> int:
    """Run just the embedded broker (with its log restored) until interrupted."""
    try:
        broker, engine = _prepare(settings)
    except (BrokerStartError, RestoreRefused) as exc:
        _say(f"accountability: cannot start: {exc}")
        return 2
    _say(f"embedded broker on {broker.bootstrap}; Ctrl-C to stop")
    try:
        while broker.alive():
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()
        engine.dispose()
