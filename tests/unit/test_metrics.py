"""Metrics at /metrics and the freshness of answers, after known activity.

The decider and the projector run against SQLite with an in-memory log; the API's
registry reads what they counted, the way a Prometheus scrape does.
"""

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, Engine, create_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support.domain import T0, command

from accountability.events import commands as c
from accountability.events.types import CaseId, CountryCode
from accountability.events.vocabulary import AllegationType, PersonnelCategory, Sex
from accountability.events.wire import decode_result, encode_command
from accountability.projections import all_projections
from accountability.projections.audit_log import AuditLogProjection
from accountability.projections.runner import Projection, RawRecord, Record
from accountability.services import db, metrics
from accountability.services.metrics import ApiMetrics, freshness
from accountability.services.worker.decider import Decider, IncomingCommand
from accountability.services.worker.projector import Projector

RECORDED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = RECORDED + timedelta(seconds=90)
PARTITIONS = 2


class MemoryLog:
    def __init__(self) -> None:
        self.events: dict[int, list[bytes]] = {}
        self.results: list[Any] = []

    async def publish_events(self, partition: int, items: Sequence[tuple[str, bytes]]) -> list[int]:
        log = self.events.setdefault(partition, [])
        start = len(log)
        log.extend(value for _, value in items)
        return list(range(start, len(log)))

    async def publish_results(self, items: Sequence[tuple[str, bytes]]) -> None:
        self.results.extend(decode_result(value) for _, value in items)

    async def read_events(self, partition: int, start: int) -> list[tuple[int, bytes]]:
        return list(enumerate(self.events.get(partition, [])))[start:]

    def records(self) -> list[RawRecord]:
        return [
            (p, o, v) for p, values in sorted(self.events.items()) for o, v in enumerate(values)
        ]


class FailsOnVictims:
    """The audit log, except that it cannot apply VictimRecorded."""

    name = "audit_log"
    version = 1
    tables = AuditLogProjection.tables

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        if any(r.envelope.type == "VictimRecorded" for r in records):
            raise RuntimeError("VictimRecorded is not handled")
        AuditLogProjection().apply(conn, records)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = db.create(f"sqlite:///{tmp_path / 'metrics.db'}")
    db.create_schema(engine)
    metrics.create_tables(engine)
    return engine


def decide(engine: Engine, log: MemoryLog) -> None:
    """Two cases on two partitions; two commands broken on purpose."""
    decider = Decider(engine, log, clock=lambda: RECORDED, counter=metrics.SqlDecisionCounter())
    commands: list[tuple[int, c.Command]] = []
    for n, case in enumerate(("M-1", "M-2")):
        cid = CaseId(case)
        commands += [
            (n, c.ReportAllegation(cid, AllegationType.SEXUAL_ABUSE, "MINUSCA")),
            (n, c.IdentifyAllegedPerpetrator(cid, PersonnelCategory.MILITARY_MC,
                                             CountryCode("GAB"), Sex.MALE)),
            (n, c.RecordVictim(cid, *_adult_woman())),
        ]  # fmt: skip
    commands += [
        (0, c.IdentifyAllegedPerpetrator(CaseId("M-1"), PersonnelCategory.MILITARY_MC,
                                         CountryCode("XYZ"), Sex.MALE)),
        (1, c.NotifyMemberState(CaseId("NOWHERE"), CountryCode("GAB"))),
    ]  # fmt: skip
    batch = [
        IncomingCommand(p, i, encode_command(command(cmd, at=T0 + timedelta(minutes=i))))
        for i, (p, cmd) in enumerate(commands)
    ]
    asyncio.run(decider.handle(batch))


def _adult_woman() -> tuple[Any, Any]:
    from accountability.events.vocabulary import AgeGroup

    return AgeGroup.ADULT, Sex.FEMALE


def scrape(engine: Engine, clock: Any = lambda: NOW) -> dict[tuple[str, tuple[Any, ...]], float]:
    api = ApiMetrics(engine, PARTITIONS, clock)
    app = Starlette(routes=[Route("/metrics", api.endpoint)], middleware=[api.middleware()])
    (text,) = get(app, "/metrics")
    return samples(text)


def get(app: Starlette, *paths: str) -> list[str]:
    """GET each path in turn, in process, as an HTTP client would."""

    async def run() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return [(await client.get(path)).text for path in paths]

    return asyncio.run(run())


def samples(text: str) -> dict[tuple[str, tuple[Any, ...]], float]:
    found: dict[tuple[str, tuple[Any, ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def applying(engine: Engine, projections: list[Projection]) -> Projector:
    return Projector(engine, projections, count=metrics.count_batch)


def test_counters_lag_and_dead_letters_after_known_activity(engine: Engine) -> None:
    log = MemoryLog()
    decide(engine, log)
    records = log.records()
    first_partition = [r for r in records if r[0] == 0]
    others = [p for p in all_projections() if p.name != "audit_log"]
    # Everything reaches the other projections; the failing audit log sees partition 0 only.
    applying(engine, others).apply(records)
    applying(engine, [FailsOnVictims()]).apply(first_partition)

    found = scrape(engine)

    assert found["accountability_metrics_database_up", ()] == 1
    assert found["accountability_commands_accepted_total", ()] == 6
    assert found["accountability_commands_rejected_total", (("rule", "UNKNOWN_COUNTRY"),)] == 1
    assert found["accountability_commands_rejected_total", (("rule", "CASE_NOT_FOUND"),)] == 1
    assert [found["accountability_log_end_offset", (("partition", str(p)),)] for p in (0, 1)] == [
        3, 3
    ]  # fmt: skip
    applied = {
        name: found["accountability_projection_events_applied_total", (("projection", name),)]
        for name in ("audit_log", "case_history", "ledger")
    }
    assert applied == {"audit_log": 2, "case_history": 6, "ledger": 6}
    lag = "accountability_projection_lag_events"
    assert found[lag, (("partition", "0"), ("projection", "audit_log"))] == 0
    assert found[lag, (("partition", "1"), ("projection", "audit_log"))] == 3
    assert found[lag, (("partition", "1"), ("projection", "case_history"))] == 0
    seconds = "accountability_projection_lag_seconds"
    assert found[seconds, (("projection", "audit_log"),)] == 90.0
    assert found[seconds, (("projection", "ledger"),)] == 0.0
    position = "accountability_projection_position"
    assert found[position, (("partition", "0"), ("projection", "audit_log"))] == 3
    dead = (("kind", "failed"), ("projection", "audit_log"))
    assert found["accountability_dead_letters_total", dead] == 1
    assert found["accountability_dead_letters_open", dead] == 1


def test_request_latency_is_labelled_by_route_and_operation(engine: Engine) -> None:
    api = ApiMetrics(engine, PARTITIONS, lambda: NOW)

    async def graphql(request: Request) -> Response:
        request.state.graphql_operation = request.query_params.get("op", "query")
        return JSONResponse({"data": {}})

    app = Starlette(
        routes=[Route("/graphql", graphql), Route("/metrics", api.endpoint)],
        middleware=[api.middleware()],
    )
    *_, text = get(
        app, "/graphql?op=query", "/graphql?op=query", "/graphql?op=mutation", "/nowhere/at/all",
        "/metrics",
    )  # fmt: skip

    found = samples(text)
    count = "accountability_http_request_duration_seconds_count"
    assert found[count, (("operation", "query"), ("route", "/graphql"))] == 2
    assert found[count, (("operation", "mutation"), ("route", "/graphql"))] == 1
    assert found[count, (("operation", "none"), ("route", "other"))] == 1


def test_a_database_that_does_not_answer_is_reported_not_a_500(tmp_path: Path) -> None:
    missing = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")

    found = scrape(missing)

    assert found["accountability_metrics_database_up", ()] == 0


def test_freshness_names_each_projections_position_and_time(engine: Engine) -> None:
    log = MemoryLog()
    decide(engine, log)
    records = log.records()
    applying(engine, all_projections()).apply([r for r in records if r[0] == 0])

    with engine.connect() as conn:
        fresh = freshness(conn)

    assert set(fresh) == {p.name for p in all_projections()}
    audit = fresh["audit_log"]
    assert audit["recordedAt"] == "2026-03-01T12:00:00.000000Z"
    assert audit["partitions"] == {"0": {"offset": 3, "recordedAt": "2026-03-01T12:00:00.000000Z"}}
    json.dumps(fresh)  # goes into every answer's extensions as it is
