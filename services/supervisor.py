"""``accountability run``: the embedded stack in the foreground, stopped by Ctrl-C.

Ctrl-C (or SIGTERM) reaches only this process, since the children run in their own
sessions; it stops them in order (API, worker, broker) and revokes the development
credential it printed. A worker or API that dies is restarted; a broker that dies
takes its in-memory log with it, so then everything stops.
"""

import logging
import signal
import time
import webbrowser
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Final

from sqlalchemy import Engine

from accountability.events.vocabulary import Role

from . import credentials
from .broker import BrokerStartError
from .demo import load_demo
from .restore import RestoreRefused
from .settings import Settings
from .stack import EmbeddedStack, StackError

log = logging.getLogger(__name__)

DEV_LABEL: Final = "development officer (accountability run)"
_MAX_RESTARTS_PER_MINUTE: Final = 5


class _Stop(Exception):
    """Raised in the main loop when a signal asks the stack to stop."""


def _say(message: str) -> None:
    print(message, flush=True)


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


def run_embedded(settings: Settings, *, demo: bool, open_browser: bool) -> int:
    """Run the whole stack until SIGINT or SIGTERM; returns the exit status."""

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        raise _Stop

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    stack = EmbeddedStack(settings)
    engine: Engine | None = None
    try:
        engine = stack.start_broker()
        report = stack.restore_report
        if report is not None and report.events:
            _say(
                f"restored {report.events} events from the audit archive in "
                f"{report.seconds:.1f}s; every hash verified"
            )
        if report is not None and report.read_models_reset:
            _say("the read models no longer matched the log; they are rebuilt from offset 0")
        token = _dev_credential(engine)
        stack.start_worker()
        stack.start_api()
        if demo:
            _say("loading the demo dataset through the decider …")
            _say(load_demo(settings, engine, progress=_say))
        url = f"{stack.url}/graphql"
        _say(
            "\nSEA accountability tracker is running (embedded: Tansu broker, SQLite).\n"
            f"  GraphiQL    {url}\n"
            f"  credential  {token}\n"
            "              a development officer: in GraphiQL's Headers tab enter\n"
            '              {"Authorization": "Bearer <credential>"}; revoked when this stops\n'
            f"  data        {settings.data_dir.resolve()} (logs in logs/)\n"
            "Press Ctrl-C to stop."
        )
        if open_browser:
            webbrowser.open(url)
        _supervise(stack)
    except _Stop:
        _say("\nstopping …")
        return 0
    except (BrokerStartError, RestoreRefused, StackError) as exc:
        _say(f"accountability: {exc}")
        return 2
    finally:
        # A second Ctrl-C must not interrupt the orderly stop.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        if engine is not None:
            _revoke_dev_credential(engine)
        stack.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 1  # pragma: no cover - _supervise only returns by raising


def _supervise(stack: EmbeddedStack) -> None:
    while True:
        time.sleep(0.5)
        if stack.broker is None or not stack.broker.alive():
            raise StackError(
                "the embedded broker stopped; start again to restore its log from the archive"
            )
        for child in (*stack.workers, stack.api):
            if child.alive():
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            if len(child.restarts) > _MAX_RESTARTS_PER_MINUTE:
                raise StackError(f"the {child.name} keeps stopping:\n{child.tail()}")
            log.warning("the %s stopped; restarting it. Last lines:\n%s", child.name, child.tail())
            child.stop(timeout=1)
            child.start()


def run_broker_only(settings: Settings) -> int:
    """Run just the embedded broker (with its log restored) until interrupted."""
    stack = EmbeddedStack(settings)
    try:
        stack.start_broker()
        _say(f"embedded broker on {settings.kafka_bootstrap_servers}; Ctrl-C to stop")
        while stack.broker is not None and stack.broker.alive():
            time.sleep(0.5)
        return 1
    except (BrokerStartError, RestoreRefused) as exc:
        _say(f"accountability: cannot start: {exc}")
        return 2
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()
