"""``accountability bench``: every figure of docs/benchmarks.md, side by side, in one run.

1. One log is built (the demo generator scaled to the largest size and case count,
   decided and sealed by the pure decider, in the order of recording).
2. For each size, a prefix of it goes to a fresh embedded broker, and each run is
   repeated: the consume ceiling, rebuilds into SQLite and PostgreSQL, ``verify``.
   On the largest: the Faust baseline, and country and statistics queries through
   the API over the PostgreSQL read models.
3. A whole embedded stack: decider throughput, then submit-to-visible latency with
   one client and with many.
4. The peer comparison with the ``eventsourcing`` library, on SQLite and PostgreSQL.
"""

import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from accountability.events.commands import CommandEnvelope

from . import bench_api as api
from . import bench_runs as runs
from .bench_log import BenchLog, build_log, consume_ceiling, write_log
from .bench_peer import (
    STATES,
    PeerRun,
    check_same,
    eventsourcing_app,
    eventsourcing_append,
    eventsourcing_country_record,
    product_commands,
    product_country_records,
    workload,
)
from .bench_report import Results, SizeRun, render
from .broker import EmbeddedBroker
from .kafka import ensure_topics
from .settings import Secret, Settings
from .stack import EmbeddedStack
from .store import audit_archive

Say = Callable[[str], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Plan:
    """What one run measures, and how much of it."""

    sizes: Sequence[int] = (10_000, 100_000, 1_000_000)
    cases: int = 100_000  # at least this many cases in the largest log
    repeats: int = 3
    large_repeats: int = 1  # runs of each rebuild on the largest log: minutes each
    clients: int = 50
    rounds: int = 20  # submissions per client per run
    decider_cases: int = 1_500
    peer_cases: int = 1_000
    queries: int = 500  # requests per query per run
    baseline_events: int = 5_000
    processes: int = os.cpu_count() or 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cases_in(items: Sequence[tuple[str, bytes]]) -> int:
    return len({stream for stream, _ in items if stream.startswith("case:")})


class Bench:
    def __init__(self, settings: Settings, plan: Plan, workdir: Path, say: Say) -> None:
        self.settings, self.plan, self.workdir, self.say = settings, plan, workdir, say
        self.partitions = settings.topic_partitions
        self.admin_url = os.environ.get(
            "ACCOUNTABILITY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        self.pg_prefix = f"accountability_bench_{os.getpid()}"

    def repeat(
        self, what: str, run: Callable[[], runs.Sample], times: int | None = None
    ) -> list[runs.Sample]:
        samples, times = [], times or self.plan.repeats
        for n in range(times):
            samples.append(sample := run())
            self.say(f"  {what} {n + 1}/{times}: {sample.rate:,.0f}/s")
        return samples

    # --- the log ---------------------------------------------------------------------

    def log_runs(self, results: Results) -> None:
        plan = self.plan
        self.say(f"building a log of {max(plan.sizes):,} events and {plan.cases:,} cases …")
        log = build_log(max(plan.sizes), cases=plan.cases)
        results.build_seconds = log.seconds
        self.say(f"  {log.events:,} events, {log.cases:,} cases in {log.seconds:.0f}s")
        sizes = sorted(plan.sizes)
        for number, size in enumerate(sizes):
            largest = number == len(sizes) - 1
            items = log.items if largest else log.items[:size]
            prefix = BenchLog(items, _cases_in(items), 0.0)
            results.sizes.append(self.size_runs(prefix, results if largest else None))

    def size_runs(self, log: BenchLog, results: Results | None) -> SizeRun:
        port, parts, work = _free_port(), self.partitions, self.workdir / f"log-{log.events}"
        settings = replace(
            self.settings, data_dir=work, kafka_bootstrap_servers=f"127.0.0.1:{port}"
        )
        with EmbeddedBroker("127.0.0.1", port, work / "broker.log") as broker:
            ensure_topics(settings)
            self.say(f"log of {log.events:,} events ({log.cases:,} cases) …")
            run = SizeRun(log.events, log.cases, write_log(broker.bootstrap, parts, log))
            boot = broker.bootstrap
            run.ceiling = self.repeat("ceiling", lambda: runs.Sample(*consume_ceiling(boot, parts)))
            sqlite = f"sqlite:///{work / 'rebuild.db'}"
            times = self.plan.large_repeats if results is not None else None
            run.sqlite = self.repeat(
                "rebuild SQLite", lambda: runs.rebuild(sqlite, boot, parts, 1), times
            )
            with runs.postgres_database(self.admin_url, f"{self.pg_prefix}_log") as pg:
                procs = self.plan.processes
                run.postgres = self.repeat(
                    "rebuild PostgreSQL", lambda: runs.rebuild(pg, boot, parts, procs), times
                )
                runs.sign_checkpoint(pg, work / "checkpoint.pem", parts)
                run.verify = self.repeat("verify", lambda: runs.verify(pg, boot, parts))
                if results is not None:
                    self.largest_log_runs(results, replace(settings, database_url=Secret(pg)))
        shutil.rmtree(work, ignore_errors=True)
        return run

    def largest_log_runs(self, results: Results, settings: Settings) -> None:
        boot, limit = settings.kafka_bootstrap_servers, self.plan.baseline_events
        base = self.workdir / "baseline"
        results.baseline = self.repeat(
            "baseline", lambda: runs.baseline(boot, base, limit, timeout=900)
        )
        log = self.workdir / "api-pg.log"
        with api.ApiProcess(settings, _free_port(), log) as process:
            years = [{"y": y, "q": q} for y in range(2015, 2025) for q in (None, 1, 2, 3, 4)]
            countries = [{"c": code} for code in STATES]
            for n in range(self.plan.repeats):
                count = self.plan.queries
                results.country_pg.append(
                    api.query_latency(process.url, api.COUNTRY_QUERY, countries, count, seed=n)
                )
                results.statistics_pg.append(
                    api.query_latency(process.url, api.STATISTICS_QUERY, years, count, seed=n)
                )
                self.say(f"  queries {n + 1}/{self.plan.repeats}")

    # --- the running product -----------------------------------------------------------

    def stack_settings(self, name: str, database_url: str | None = None) -> Settings:
        data = self.workdir / name
        return replace(
            self.settings,
            data_dir=data,
            database_url=Secret(database_url or f"sqlite:///{data / 'accountability.db'}"),
            kafka_bootstrap_servers=f"127.0.0.1:{_free_port()}",
            api_port=_free_port(),
            worker_id=f"accountability-bench-{name}-{os.getpid()}",
            workers=1,
        )

    def stack_runs(self, results: Results) -> None:
        plan = self.plan
        with EmbeddedStack(self.stack_settings("stack")) as stack:
            engine = stack.engine
            if engine is None:
                raise RuntimeError("the stack started without a database engine")
            token = api.officer_token(engine)
            for n in range(plan.repeats):
                cases = workload(plan.decider_cases, seed=n, prefix=f"DECIDER{n}")
                streams = [product_commands(case) for case in cases]
                results.decider.append(api.decider_throughput(stack.settings, streams))
                self.say(f"  decider {n + 1}/{plan.repeats}: {results.decider[-1].rate:,.0f}/s")
            for n in range(plan.repeats):
                results.single.append(api.submit_to_visible(stack.url, token, 1, 100))
                results.concurrent.append(
                    api.submit_to_visible(stack.url, token, plan.clients, plan.rounds)
                )
                self.say(f"  submissions {n + 1}/{plan.repeats}")
            countries = [{"c": code} for code in STATES]
            for n in range(plan.repeats):
                results.country_stack.append(
                    api.query_latency(stack.url, api.COUNTRY_QUERY, countries, plan.queries, n)
                )
            with engine.connect() as conn:
                results.stack_events = conn.execute(
                    select(func.count()).select_from(audit_archive)
                ).scalar_one()

    # --- the peer ---------------------------------------------------------------------

    def peer_runs(self, results: Results) -> None:
        for database in ("SQLite", "PostgreSQL"):
            results.peer[database] = []
            for n in range(self.plan.repeats):
                results.peer[database].append(self.peer_run(database, n))
                run = results.peer[database][-1]
                self.say(
                    f"  peer on {database} {n + 1}/{self.plan.repeats}: append "
                    f"{run.eventsourcing_append:.1f}s there, {run.product_append:.1f}s here"
                )

    def peer_run(self, database: str, n: int) -> PeerRun:
        cases = workload(self.plan.peer_cases, seed=100 + n, prefix=f"PEER{n}")
        commands = [product_commands(case) for case in cases]
        work = self.workdir / f"peer-{database}-{n}"
        work.mkdir(parents=True)
        now = datetime.now(UTC)
        admin, name = self.admin_url, f"{self.pg_prefix}_peer"
        if database == "SQLite":
            app = eventsourcing_app("sqlite", str(work / "eventsourcing.db"))
            theirs_append = eventsourcing_append(app, cases)
            theirs, theirs_build = eventsourcing_country_record(app, now)
            stack_url, rebuilt_url = None, f"sqlite:///{work / 'rebuilt.db'}"
            ours_append, ours, ours_build = self.product_peer(
                database, n, stack_url, rebuilt_url, commands
            )
        else:
            with runs.postgres_database(admin, f"{name}_es") as es_url:
                app = eventsourcing_app("postgresql", es_url)
                theirs_append = eventsourcing_append(app, cases)
                theirs, theirs_build = eventsourcing_country_record(app, now)
                app.close()
            with (
                runs.postgres_database(admin, f"{name}_stack") as stack_url,
                runs.postgres_database(admin, f"{name}_rebuilt") as rebuilt_url,
            ):
                ours_append, ours, ours_build = self.product_peer(
                    database, n, stack_url, rebuilt_url, commands
                )
        check_same(ours, theirs)
        shutil.rmtree(work, ignore_errors=True)
        return PeerRun(
            sum(len(c) for c in commands), theirs_append, theirs_build, ours_append, ours_build
        )

    def product_peer(
        self,
        database: str,
        n: int,
        stack_url: str | None,
        rebuilt_url: str,
        commands: list[list[CommandEnvelope]],
    ) -> tuple[float, dict[str, dict[str, int]], float]:
        settings = self.stack_settings(f"peer-stack-{database}-{n}", stack_url)
        with EmbeddedStack(settings) as stack:
            appended = api.decider_throughput(stack.settings, commands)
            records, seconds = product_country_records(
                rebuilt_url, stack.settings.kafka_bootstrap_servers, self.partitions
            )
        return appended.seconds, records, seconds


def run_bench(
    settings: Settings, plan: Plan, *, output: str, command: str, say: Say = print
) -> int:
    results = Results(
        started=datetime.now(UTC), command=command, repeats=plan.repeats,
        clients=plan.clients, processes=plan.processes, large_repeats=plan.large_repeats,
    )  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="accountability-bench-"))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    try:
        bench = Bench(settings, plan, workdir, say)
        bench.log_runs(results)
        # What the log runs measured is kept if a later part fails: the report says so.
        for part, run in (("the embedded stack", bench.stack_runs), ("the peer", bench.peer_runs)):
            say(f"{part} …")
            try:
                run(results)
            except Exception as exc:  # reported, and the exit status says so
                log.exception("the benchmark of %s failed", part)
                results.failures.append(f"{part}: {type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(render(results), encoding="utf-8")
    say(f"wrote {output}")
    return 1 if results.failures else 0
