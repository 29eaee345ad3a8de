"""Prometheus metrics at the API's ``/metrics``, and the counters the worker keeps in SQL.

The worker and the API are separate processes (and production runs several workers),
so the API does not read the worker's memory: every figure comes from the database.

- **Lag and positions** are computed at scrape time: each projection's checkpoints
  against the highest offset the audit archive records per partition, and, for the
  time lag, the recording instant of the first event not yet applied.
- **Counters** (events applied, dead letters, rejections by rule) are rows of
  ``metric_counters``, incremented in the same transaction as the work they count, so
  a redelivered batch or a retried command is never counted twice. Each row has a
  shard (the partition) so that workers owning different partitions never wait for
  each other's counter rows.
- **Request latency** is the API's own, kept in memory by a middleware.
"""

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from accountability.events.wire import CommandResult
from accountability.projections import all_projections
from accountability.projections import dead_letters as letters
from accountability.projections.freshness import as_json, positions
from accountability.projections.runner import BatchReport, checkpoints
from accountability.projections.sql import add_to

from .store import audit_archive

log = logging.getLogger(__name__)

metadata = MetaData()
"""Operational counters: not derived from the log, so never dropped by a rebuild."""

metric_counters = Table(
    "metric_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("labels", String(200), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

EVENTS_APPLIED: Final = "accountability_projection_events_applied"
DEAD_LETTERS: Final = "accountability_dead_letters"
DEAD_LETTERS_REPLAYED: Final = "accountability_dead_letters_replayed"
COMMANDS_ACCEPTED: Final = "accountability_commands_accepted"
COMMANDS_REJECTED: Final = "accountability_commands_rejected"

_COUNTERS: Final = {
    EVENTS_APPLIED: ("Events applied to a read model (redeliveries not counted)", ["projection"]),
    DEAD_LETTERS: ("Log records a read model could not apply", ["projection", "kind"]),
    DEAD_LETTERS_REPLAYED: ("Dead letters applied by a replay", ["projection"]),
    COMMANDS_ACCEPTED: ("Commands the decider accepted", []),
    COMMANDS_REJECTED: ("Commands the decider rejected, by the rule broken", ["rule"]),
}

_SCHEMA_LOCK: Final = 7_414_220_002
"""PostgreSQL advisory lock key: processes started together create the table one at a time."""

OPERATION_STATE: Final = "graphql_operation"
"""Where the GraphQL endpoint notes the operation type in the request's state."""

_ROUTES: Final = ("/graphql", "/metrics", "/healthz", "/readyz", "/static")
_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def create_tables(engine: Engine) -> None:
    """Create ``metric_counters`` if it is missing. Idempotent."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        metadata.create_all(conn)


# --- counting (worker side) --------------------------------------------------------------

CounterKey = tuple[str, str, int]
"""(metric name, labels as canonical JSON, shard)."""


def counter_key(name: str, shard: int = 0, **labels: str) -> CounterKey:
    return name, json.dumps(labels, sort_keys=True, separators=(",", ":")), shard


def increment(conn: Connection, amounts: Mapping[CounterKey, int]) -> None:
    """Add ``amounts`` to their counters, inside ``conn``'s transaction."""
    rows = [
        {"name": name, "labels": labels, "shard": shard, "value": amount}
        for (name, labels, shard), amount in sorted(amounts.items())
        if amount
    ]
    if not rows:
        return
    add_to(conn, metric_counters, rows)


def count_batch(conn: Connection, report: BatchReport) -> None:
    """Count what a projector batch did, in the batch's transaction."""
    amounts: Counter[CounterKey] = Counter()
    for (projection, partition), n in report.applied.items():
        amounts[counter_key(EVENTS_APPLIED, partition, projection=projection)] += n
    for (projection, partition, kind), n in report.dead_lettered.items():
        amounts[counter_key(DEAD_LETTERS, partition, projection=projection, kind=kind.value)] += n
    increment(conn, amounts)


class SqlDecisionCounter:
    """The decider's counter of new decisions: accepted, and rejected by rule."""

    def count(self, conn: Connection, decided: Sequence[tuple[int, CommandResult]]) -> None:
        amounts: Counter[CounterKey] = Counter()
        for partition, result in decided:
            if result.rejection is None:
                amounts[counter_key(COMMANDS_ACCEPTED, partition)] += 1
            else:
                amounts[counter_key(COMMANDS_REJECTED, partition, rule=result.rejection.code)] += 1
        increment(conn, amounts)


def counter_values(conn: Connection) -> dict[tuple[str, str], int]:
    """Every counter summed over its shards, by (name, labels JSON)."""
    rows = conn.execute(
        select(
            metric_counters.c.name, metric_counters.c.labels, func.sum(metric_counters.c.value)
        ).group_by(metric_counters.c.name, metric_counters.c.labels)
    )
    return {(str(name), str(labels)): int(total) for name, labels, total in rows}


# --- freshness -----------------------------------------------------------------------------


def freshness(conn: Connection) -> dict[str, Any]:
    """Per read model, the log position it has reached and when that event was recorded.

    ``{projection: {"recordedAt": …, "partitions": {"0": {"offset": …, "recordedAt": …}}}}``;
    ``offset`` is the next one to apply, so every event below it is reflected.
    """
    return as_json(positions(conn, checkpoints, [p.name for p in all_projections()]))


# --- the API's /metrics ------------------------------------------------------------------


class DatabaseCollector(Collector):
    """Lag, positions, counters and dead letters, read from the database at each scrape."""

    def __init__(self, engine: Engine, partitions: int, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._partitions = partitions
        self._clock = clock
        self._tables_ready = False

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "accountability_metrics_database_up", "1 when the database answered this scrape"
        )
        try:
            if not self._tables_ready:
                create_tables(self._engine)
                self._tables_ready = True
            with self._engine.connect() as conn:
                families = self._families(conn)
        except SQLAlchemyError as exc:
            log.error("metrics: the database did not answer: %s", exc)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    def _families(self, conn: Connection) -> list[Metric]:
        now = self._clock()
        ends = log_ends(conn, self._partitions)
        names = [p.name for p in all_projections()]
        done: dict[str, dict[int, int]] = {name: {} for name in names}
        rows = conn.execute(
            select(checkpoints.c.projection, checkpoints.c.partition, checkpoints.c.next_offset)
        )
        for name, partition, offset in rows:
            done.setdefault(str(name), {})[int(partition)] = int(offset)

        end = GaugeMetricFamily(
            "accountability_log_end_offset",
            "One past the highest offset of the events log recorded in the archive",
            labels=["partition"],
        )
        for partition, offset in sorted(ends.items()):
            end.add_metric([str(partition)], offset)
        position = GaugeMetricFamily(
            "accountability_projection_position",
            "The next offset a read model will apply, per partition",
            labels=["projection", "partition"],
        )
        lag = GaugeMetricFamily(
            "accountability_projection_lag_events",
            "Events in the log that a read model has not applied yet",
            labels=["projection", "partition"],
        )
        lag_seconds = GaugeMetricFamily(
            "accountability_projection_lag_seconds",
            "Age of the oldest event a read model has not applied yet (0 when caught up)",
            labels=["projection"],
        )
        for name in sorted(done):
            oldest: datetime | None = None
            for partition, last in sorted(ends.items()):
                reached = done[name].get(partition, 0)
                position.add_metric([name, str(partition)], reached)
                lag.add_metric([name, str(partition)], max(0, last - reached))
                if reached < last:
                    pending = first_recorded_at(conn, partition, reached)
                    if pending is not None and (oldest is None or pending < oldest):
                        oldest = pending
            seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
            lag_seconds.add_metric([name], seconds)
        return [
            end,
            position,
            lag,
            lag_seconds,
            *_counter_families(counter_values(conn)),
            _open_letters(letters.open_counts(conn)),
        ]


def log_ends(conn: Connection, partitions: int) -> dict[int, int]:
    """One past the highest archived offset of each partition (0 for an empty one)."""
    ends: dict[int, int] = {}
    for partition in range(partitions):
        highest = conn.execute(
            select(func.max(audit_archive.c.log_offset)).where(
                audit_archive.c.partition == partition
            )
        ).scalar()
        ends[partition] = 0 if highest is None else int(highest) + 1
    return ends


def first_recorded_at(conn: Connection, partition: int, offset: int) -> datetime | None:
    """When the first archived event at or after ``offset`` of ``partition`` was recorded."""
    value: datetime | None = conn.execute(
        select(audit_archive.c.recorded_at)
        .where(audit_archive.c.partition == partition, audit_archive.c.log_offset >= offset)
        .order_by(audit_archive.c.log_offset)
        .limit(1)
    ).scalar()
    return value


def _counter_families(values: Mapping[tuple[str, str], int]) -> list[Metric]:
    families: list[Metric] = []
    for name, (documentation, label_names) in _COUNTERS.items():
        family = CounterMetricFamily(name, documentation, labels=label_names)
        for (metric, labels), value in sorted(values.items()):
            if metric == name:
                given = json.loads(labels)
                family.add_metric([str(given.get(label, "")) for label in label_names], value)
        families.append(family)
    return families


def _open_letters(counts: Mapping[tuple[str, str], int]) -> Metric:
    family = GaugeMetricFamily(
        "accountability_dead_letters_open",
        "Dead letters not replayed yet, by read model and kind (failed, undecodable, parked)",
        labels=["projection", "kind"],
    )
    for (projection, kind), n in sorted(counts.items()):
        family.add_metric([projection, kind], n)
    return family


class RequestTimer:
    """ASGI middleware: how long each HTTP request took, by route and GraphQL operation."""

    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self._app = app
        self._histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        try:
            await self._app(scope, receive, send)
        finally:
            operation = str(state.get(OPERATION_STATE, "none"))
            self._histogram.labels(_route(scope["path"]), operation).observe(
                time.perf_counter() - started
            )


def _route(path: str) -> str:
    """A bounded label: a known route (or its prefix), else ``other``."""
    if path == "/":
        return "/"
    return next((r for r in _ROUTES if path == r or path.startswith(r + "/")), "other")


class ApiMetrics:
    """The API's registry: database figures and request latency, served at ``/metrics``."""

    def __init__(
        self,
        engine: Engine,
        partitions: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram(
            "accountability_http_request_duration_seconds",
            "HTTP request latency, by route and GraphQL operation type",
            ["route", "operation"],
            registry=self.registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.registry.register(DatabaseCollector(engine, partitions, clock))

    def middleware(self) -> Middleware:
        return Middleware(RequestTimer, histogram=self.latency)

    async def endpoint(self, _request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
