"""Schemathesis against the running stack's GraphQL endpoint: no server error, ever.

Every query and mutation of the schema (loaded by introspection) gets generated
documents and arguments, sent with an officer's bearer credential so that mutations
reach the decider through the broker. A bounded run: ``EXAMPLES`` per operation and
``BUDGET_SECONDS`` in all. A 5xx, a body that is not a GraphQL response, or an
INTERNAL_ERROR (an exception a resolver did not expect) is a failure; every failure
is collected and reported together.
"""

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from support.net import free_port

from accountability.events.vocabulary import Role
from accountability.services import credentials
from accountability.services.settings import Secret, Settings
from accountability.services.stack import EmbeddedStack

pytestmark = [pytest.mark.slow, pytest.mark.broker]

EXAMPLES: Final = 12
BUDGET_SECONDS: Final = 100.0

schemathesis.graphql.scalar(
    "Instant",
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1),  # noqa: DTZ001
                 timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
)  # fmt: skip
schemathesis.graphql.scalar(
    "Day", st.dates(date(2000, 1, 1), date(2030, 1, 1)).map(lambda d: nodes.String(d.isoformat()))
)
schemathesis.graphql.scalar(
    "JSONString",
    st.dictionaries(st.sampled_from(["case_id", "victim_id", "sex", "x"]),
                    st.one_of(st.text(max_size=8), st.integers(), st.none()), max_size=3)
    .map(lambda d: nodes.String(json.dumps(d))),
)  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    data_dir: Path = tmp_path_factory.mktemp("schemathesis")
    settings_ = replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=Secret(f"sqlite:///{data_dir / 'accountability.db'}"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        worker_id=f"accountability-fuzz-{uuid.uuid4().hex[:8]}",
        command_timeout_seconds=20.0,
    )
    with EmbeddedStack(settings_) as running:
        yield running


def _token(stack: EmbeddedStack) -> str:
    assert stack.engine is not None
    now = datetime.now(UTC)
    with stack.engine.begin() as conn:
        principal = credentials.ensure_principal(
            conn, principal_id="officer-fuzz", name="fuzz", role=Role.OFFICER,
            member_state=None, now=now,
        )  # fmt: skip
        return credentials.issue(conn, principal, "schemathesis", now).token


def _problem(response: Any) -> str | None:
    if response.status_code >= 500:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} with a body that is not JSON: {response.text[:300]}"
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        return f"HTTP {response.status_code} with no data and no errors: {response.text[:300]}"
    internal = [e for e in body.get("errors") or []
                if (e.get("extensions") or {}).get("code") == "INTERNAL_ERROR"]  # fmt: skip
    if internal:
        return f"INTERNAL_ERROR at {internal[0].get('path')}"
    return None


@dataclass
class Run:
    """What a bounded run sent and found."""

    base_url: str
    headers: dict[str, str]
    deadline: float
    sent: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def exercise(self, operation: Any) -> None:
        label = operation.label
        self.sent[label] = 0

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(case=operation.as_strategy())
        def send(case: Any) -> None:
            if time.monotonic() > self.deadline or label in self.failures:
                return
            response = case.call(base_url=self.base_url, headers=self.headers, timeout=30)
            self.sent[label] += 1
            problem = _problem(response)
            if problem is not None:
                self.failures[label] = f"{problem}\n  query: {case.body}"

        send()


def test_generated_queries_and_mutations_never_get_a_server_error(stack: EmbeddedStack) -> None:
    headers = {"Authorization": f"Bearer {_token(stack)}"}
    schema = schemathesis.graphql.from_url(f"{stack.url}/graphql", headers=headers, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    run = Run(stack.url, headers, time.monotonic() + BUDGET_SECONDS)

    for operation in operations:
        run.exercise(operation)

    assert len(operations) >= 40
    assert [label for label, n in run.sent.items() if n == 0] == [], "ran out of time"
    assert run.failures == {}, "\n".join(f"{op}: {what}" for op, what in run.failures.items())
