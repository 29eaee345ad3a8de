"""The benchmark's runs through a running product: the decider and the GraphQL API.

- decider throughput: commands sent with the API's own command bus, many streams at
  once, each answered once its events are in the archive and the log;
- submit-to-visible latency: concurrent clients, each submitting through HTTP and
  querying until the case shows the event;
- query latency: one client asking the same query over and over, as an officer's
  browser would, against a database the benchmark filled.
"""

import asyncio
import os
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from accountability.events.commands import CommandEnvelope
from accountability.events.vocabulary import Role

from . import credentials
from .bench_runs import Sample
from .demo import submit_streams
from .settings import Settings
from .stack import Child, wait_until


def officer_token(engine: Engine, principal_id: str = "bench-officer") -> str:
    """A fresh officer credential for the benchmark's requests."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        principal = credentials.ensure_principal(
            conn, principal_id=principal_id, name="Benchmark officer",
            role=Role.OFFICER, member_state=None, now=now,
        )  # fmt: skip
        return credentials.issue(conn, principal, "benchmark", now).token


def decider_throughput(settings: Settings, streams: Sequence[Sequence[CommandEnvelope]]) -> Sample:
    """Every command of ``streams`` through the bus; each stream in order, 64 at once."""
    started = time.perf_counter()
    outcomes: Counter[str] = asyncio.run(submit_streams(settings, streams, lambda _m: None))
    seconds = time.perf_counter() - started
    rejected = {k: v for k, v in outcomes.items() if k != "accepted"}
    if rejected:
        raise RuntimeError(f"the decider rejected benchmark commands: {rejected}")
    return Sample(sum(outcomes.values()), seconds)


_REPORT = (
    "mutation($i: ReportAllegationInput!) { reportAllegation(input: $i) { __typename "
    "... on Accepted { events { sequence } } ... on Rejected { code message } } }"
)
_SEEN = "query($id: ID!) { case(id: $id) { lastSequence } }"


@dataclass
class Latencies:
    answered_ms: list[float] = field(default_factory=list)
    visible_ms: list[float] = field(default_factory=list)
    first_query_saw_it: int = 0


async def _client(
    client: httpx.AsyncClient, headers: dict[str, str], rounds: int, out: Latencies
) -> None:
    for _ in range(rounds):
        case = f"BENCH-{uuid.uuid4().hex[:12].upper()}"
        variables = {"i": {"caseId": case, "allegationType": "SEXUAL_ABUSE", "mission": "MINUSCA"}}
        started = time.perf_counter()
        answer = await client.post(
            "/graphql", json={"query": _REPORT, "variables": variables}, headers=headers
        )
        outcome = answer.json()["data"]["reportAllegation"]
        out.answered_ms.append((time.perf_counter() - started) * 1000)
        if outcome["__typename"] != "Accepted":
            raise RuntimeError(f"a benchmark mutation was not accepted: {outcome}")
        sequence = outcome["events"][-1]["sequence"]
        for attempt in range(1000):
            seen = await client.post(
                "/graphql", json={"query": _SEEN, "variables": {"id": case}}, headers=headers
            )
            if ((seen.json()["data"] or {}).get("case") or {}).get("lastSequence", 0) >= sequence:
                out.first_query_saw_it += attempt == 0
                break
            await asyncio.sleep(0.005)
        else:
            raise RuntimeError(f"case {case} never showed its event")
        out.visible_ms.append((time.perf_counter() - started) * 1000)


def submit_to_visible(url: str, token: str, clients: int, rounds: int) -> Latencies:
    """``clients`` concurrent clients, each submitting ``rounds`` new allegations."""
    out = Latencies()

    async def run() -> None:
        # Idle connections are dropped before the server's keep-alive (5 s) closes them:
        # a request sent on a connection the server is closing fails with ReadError.
        limits = httpx.Limits(
            max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=1.0
        )
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            headers = {"Authorization": f"Bearer {token}"}
            await asyncio.gather(*(_client(client, headers, rounds, out) for _ in range(clients)))

    asyncio.run(run())
    return out


COUNTRY_QUERY = (
    "query($c: String!) { country(code: $c) { allegations notifications "
    "replies { onTime late missing pending } investigations { byState byUn substantiated } "
    "accountabilityRate replyOnTimeRate followUpScore prosecutions { convicted } "
    "commitments { compactSignedAt } } }"
)
STATISTICS_QUERY = (
    "query($y: Int!, $q: Int) { statistics(year: $y, quarter: $q) { allegations cases "
    "tables { name rows { key count } } } }"
)


def query_latency(
    url: str, query: str, variables: Sequence[Mapping[str, object]], count: int, seed: int
) -> list[float]:
    """``count`` requests of ``query``, each with variables drawn from ``variables``."""
    rng = random.Random(seed)
    timings: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(count):
            body = {"query": query, "variables": rng.choice(variables)}
            started = time.perf_counter()
            answer = client.post("/graphql", json=body)
            timings.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200 or answer.json().get("errors"):
                raise RuntimeError(f"a benchmark query failed: {answer.text[:300]}")
    return timings


class ApiProcess:
    """The API alone, as a child process, over a database and broker already there."""

    def __init__(self, settings: Settings, port: int, log: Path) -> None:
        self.settings = replace(settings, api_port=port)
        env = {**os.environ, **self.settings.as_environment()}
        argv = [sys.executable, "-m", "accountability.services.cli", "api"]
        self.child = Child("api", argv, env, log)
        self.url = f"http://127.0.0.1:{port}"

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def __enter__(self) -> "ApiProcess":
        self.child.start()
        try:
            wait_until(self._ready, 60, "the benchmark's API to be ready", self.child)
        except BaseException:
            self.child.stop(timeout=10)
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.child.stop(timeout=10)
