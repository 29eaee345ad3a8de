"""End to end: the real processes (Tansu, Faust worker, API) on SQLite, driven over HTTP."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from support.net import descendants, free_port, running
from support.read_models import snapshot

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope
from accountability.events.types import CaseId, CommandId, CountryCode
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    PersonnelCategory,
    Role,
    Sex,
)
from accountability.projections.audit_log import audit_log
from accountability.services import credentials, db
from accountability.services.api.bus import CommandBus, NotConfirmed
from accountability.services.blue_green import rebuild_beside
from accountability.services.demo import wait_for_read_models
from accountability.services.rebuild import rebuild_into
from accountability.services.settings import Secret, Settings
from accountability.services.stack import EmbeddedStack

pytestmark = [pytest.mark.slow, pytest.mark.broker]


def stack_settings(data_dir: Path) -> Settings:
    return replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=Secret(f"sqlite:///{data_dir / 'accountability.db'}"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        worker_id=f"accountability-e2e-{uuid.uuid4().hex[:8]}",
        command_timeout_seconds=20.0,
    )


class Client:
    """GraphQL over HTTP as a caller sees it."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(kw.pop("headers", {}))
        body = {"query": query, "variables": variables or {}}
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30, **kw)

    def mutate(self, name: str, input_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        query = (
            f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename "
            "... on Accepted { commandId streamId visible events { eventId type sequence hash } }"
            " ... on Rejected { commandId code message field } } }"
        )
        response = self.post(query, {"i": fields})
        assert response.status_code == 200, response.text
        outcome: dict[str, Any] = response.json()["data"][name]
        return outcome


def issue(stack: EmbeddedStack, role: Role, member_state: str | None = None) -> str:
    assert stack.engine is not None
    now = datetime.now(UTC)
    with stack.engine.begin() as conn:
        principal = credentials.ensure_principal(
            conn,
            principal_id=f"{role.value}-{member_state or 'un'}",
            name=f"test {role.value}",
            role=role,
            member_state=member_state,
            now=now,
        )
        return credentials.issue(conn, principal, "e2e", now).token


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(stack_settings(tmp_path_factory.mktemp("stack"))) as running:
        yield running


@pytest.fixture(scope="module")
def officer(stack: EmbeddedStack) -> Client:
    return Client(stack.url, issue(stack, Role.OFFICER))


def report(client: Client, case_id: str, at: str = "2024-05-01T08:00:00Z") -> dict[str, Any]:
    return client.mutate(
        "reportAllegation",
        "ReportAllegationInput",
        {"caseId": case_id, "allegationType": "SEXUAL_ABUSE", "mission": "MINUSCA",
         "occurredAt": at},
    )  # fmt: skip


def identify(client: Client, case_id: str, nationality: str) -> dict[str, Any]:
    return client.mutate(
        "identifyAllegedPerpetrator",
        "IdentifyAllegedPerpetratorInput",
        {"caseId": case_id, "category": "MILITARY_MC", "nationality": nationality,
         "occurredAt": "2024-05-01T09:00:00Z"},
    )  # fmt: skip


def notify(client: Client, case_id: str, member_state: str) -> dict[str, Any]:
    return client.mutate(
        "notifyMemberState",
        "NotifyMemberStateInput",
        {"caseId": case_id, "memberState": member_state, "occurredAt": "2024-05-03T09:00:00Z"},
    )


COUNTRY = """query($c: String!) { country(code: $c) { allegations notifications
  replies { onTime late missing pending } investigatorAppointed } }"""


def test_a_mutation_over_http_changes_the_country_record_at_once(
    stack: EmbeddedStack, officer: Client
) -> None:
    public = Client(stack.url)
    before = public.post(COUNTRY, {"c": "ZMB"}).json()["data"]["country"]

    assert report(officer, "E2E-1")["__typename"] == "Accepted"
    assert identify(officer, "E2E-1", "ZMB")["__typename"] == "Accepted"
    notified = notify(officer, "E2E-1", "ZMB")
    zambia = Client(stack.url, issue(stack, Role.MEMBER_STATE, "ZMB"))
    replied = zambia.mutate(
        "replyIntentToInvestigate",
        "MemberStateInput",
        {"caseId": "E2E-1", "memberState": "ZMB", "occurredAt": "2024-05-06T09:00:00Z"},
    )
    after = public.post(COUNTRY, {"c": "ZMB"}).json()["data"]["country"]

    assert notified["visible"] is True
    assert replied["__typename"] == "Accepted"
    assert replied["events"][0]["sequence"] == 4
    assert before == {"allegations": 0, "notifications": 0, "investigatorAppointed": 0,
                      "replies": {"onTime": 0, "late": 0, "missing": 0, "pending": 0}}  # fmt: skip
    assert after["allegations"] == 1
    assert after["notifications"] == 1
    assert after["replies"]["onTime"] == 1


def test_the_same_command_twice_yields_one_event_and_the_same_answer(
    stack: EmbeddedStack, officer: Client
) -> None:
    fields = {
        "caseId": "E2E-2",
        "allegationType": "SEXUAL_EXPLOITATION",
        "mission": "UNMISS",
        "commandId": "e2e-cmd-2",
    }

    first = officer.mutate("reportAllegation", "ReportAllegationInput", fields)
    second = officer.mutate("reportAllegation", "ReportAllegationInput", fields)
    trail = officer.post('{ auditTrail(streamId: "case:E2E-2") { edges { node { eventId } } } }')

    assert first["__typename"] == "Accepted"
    assert second == first
    assert len(trail.json()["data"]["auditTrail"]["edges"]) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        pytest.param(b"{not json", "application/json", 400, "BAD_REQUEST", id="malformed-json"),
        pytest.param(b'{"query": "{ country(code: "}', "application/json", 400,
                     "GRAPHQL_PARSE_FAILED", id="malformed-graphql"),
        pytest.param(b'{"query": "{ nope }"}', "application/json", 400,
                     "GRAPHQL_VALIDATION_FAILED", id="unknown-field"),
        pytest.param(b'{"variables": {}}', "application/json", 400, "BAD_REQUEST",
                     id="no-query"),
        pytest.param(b'{"query": "query A { __typename }", "operationName": "B"}',
                     "application/json", 400, "BAD_REQUEST", id="unknown-operation"),
        pytest.param(b"query=x", "application/x-www-form-urlencoded", 415,
                     "UNSUPPORTED_MEDIA_TYPE", id="wrong-content-type"),
        pytest.param(b'{"query": "' + b" " * 1_100_000 + b'{ __typename }"}',
                     "application/json", 413, "PAYLOAD_TOO_LARGE", id="too-large"),
    ],
)  # fmt: skip
def test_a_malformed_request_gets_a_clear_error_never_a_500(
    stack: EmbeddedStack, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = httpx.post(
        f"{stack.url}/graphql", content=body, headers={"content-type": content_type}, timeout=30
    )

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    if code == "BAD_REQUEST" and b"operationName" in body:
        assert response.json()["errors"][0]["message"] == (
            "the document has no operation named 'B'"
        )


def test_a_bad_credential_is_refused_and_a_missing_one_named(stack: EmbeddedStack) -> None:
    forged = Client(stack.url, "acct_0000000000000000_" + "x" * 43)
    anonymous = Client(stack.url)

    refused = forged.post('{ case(id: "E2E-1") { caseId } }')
    unnamed = anonymous.post('{ case(id: "E2E-1") { caseId } }').json()
    mutation = anonymous.post(
        'mutation { closeCase(input: {caseId: "E2E-1", reason: OTHER_CIRCUMSTANCES}) '
        "{ __typename } }"
    ).json()

    assert refused.status_code == 401
    assert unnamed["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert mutation["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_bad_commands_are_precise_rejections_that_write_nothing(
    stack: EmbeddedStack, officer: Client
) -> None:
    report(officer, "E2E-3")
    identify(officer, "E2E-3", "BGD")
    pakistan = Client(stack.url, issue(stack, Role.MEMBER_STATE, "PAK"))

    unknown_case = notify(officer, "E2E-NONE", "BGD")
    empty_case = report(officer, "")
    unknown_country = identify(officer, "E2E-3", "XYZ")
    too_early = officer.mutate(
        "notifyMemberState", "NotifyMemberStateInput",
        {"caseId": "E2E-3", "memberState": "BGD", "occurredAt": "2024-04-01T00:00:00Z"},
    )  # fmt: skip
    not_theirs = pakistan.mutate(
        "replyIntentToInvestigate", "MemberStateInput", {"caseId": "E2E-3", "memberState": "PAK"}
    )
    no_stream = officer.mutate(
        "retractEvent", "RetractEventInput", {"streamId": "", "eventId": "e", "reason": "typo"}
    )
    unknown_query = officer.post('{ country(code: "XYZ") { code } }').json()
    missing_case = officer.post('{ case(id: "E2E-NONE") { caseId } }').json()
    trail = officer.post('{ auditTrail(streamId: "case:E2E-3") { edges { node { type } } } }')
    malformed = officer.post('{ auditTrail(streamId: "E2E-3") { edges { cursor } } }').json()

    assert (unknown_case["code"], unknown_case["field"]) == ("CASE_NOT_FOUND", "caseId")
    assert (empty_case["code"], empty_case["field"]) == ("INVALID_IDENTIFIER", "caseId")
    assert (unknown_country["code"], unknown_country["field"]) == ("UNKNOWN_COUNTRY", "nationality")
    assert (too_early["code"], too_early["field"]) == ("OUT_OF_ORDER", "occurredAt")
    assert (not_theirs["code"], not_theirs["field"]) == ("FORBIDDEN_MEMBER_STATE", "caseId")
    assert (no_stream["code"], no_stream["field"]) == ("INVALID_COMMAND", "streamId")
    assert unknown_query["errors"][0]["extensions"]["code"] == "UNKNOWN_COUNTRY"
    assert missing_case["errors"][0]["extensions"]["code"] == "CASE_NOT_FOUND"
    assert malformed["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "streamId"}
    types = [e["node"]["type"] for e in trail.json()["data"]["auditTrail"]["edges"]]
    assert types == ["AllegationReported", "AllegedPerpetratorIdentified"]


def test_graphiql_is_served_with_its_assets_from_the_app(stack: EmbeddedStack) -> None:
    page = httpx.get(f"{stack.url}/graphql", headers={"accept": "text/html"})
    script = httpx.get(f"{stack.url}/static/graphiql/graphiql.min.js")

    assert page.status_code == 200
    assert "/static/graphiql/graphiql.min.js" in page.text
    assert "https://" not in page.text
    assert script.status_code == 200
    assert httpx.get(f"{stack.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{stack.url}/readyz").json() == {"status": "ready"}


# --- restarts -----------------------------------------------------------------------


def _actor() -> Actor:
    return Actor("e2e-officer", Role.OFFICER)


def _case_commands(case_id: str) -> list[CommandEnvelope]:
    base = datetime(2024, 6, 1, 8, tzinfo=UTC)
    cid = CaseId(case_id)
    steps: list[c.Command] = [
        c.ReportAllegation(cid, AllegationType.SEXUAL_ABUSE, "MONUSCO"),
        c.IdentifyAllegedPerpetrator(cid, PersonnelCategory.MILITARY_MC, CountryCode("IND"),
                                     Sex.MALE),
        c.RecordVictim(cid, AgeGroup.ADULT, Sex.FEMALE),
        c.NotifyMemberState(cid, CountryCode("IND")),
    ]  # fmt: skip
    return [
        CommandEnvelope(
            CommandId(f"{case_id}/{n}"), "e2e", _actor(), base, base + timedelta(hours=n), step
        )
        for n, step in enumerate(steps)
    ]


async def _submit_until_answered(bus: CommandBus, streams: list[list[CommandEnvelope]]) -> None:
    async def one(stream: list[CommandEnvelope]) -> None:
        for command in stream:
            while True:
                try:
                    result = await bus.submit(command)
                except NotConfirmed:
                    continue  # the worker is down: resend the same command id
                assert result.status == "accepted", result
                break

    await asyncio.gather(*(one(s) for s in streams))


def test_a_worker_killed_mid_stream_resumes_and_matches_a_clean_rebuild(
    tmp_path: Path,
) -> None:
    settings = replace(stack_settings(tmp_path / "data"), command_timeout_seconds=5.0)
    with EmbeddedStack(settings) as stack:
        bus = CommandBus(settings)
        bus.start()
        streams = [_case_commands(f"K-{n:03d}") for n in range(60)]
        done = threading.Event()
        errors: list[BaseException] = []

        def submit() -> None:
            try:
                asyncio.run(_submit_until_answered(bus, streams))
            except BaseException as exc:
                errors.append(exc)
            finally:
                done.set()

        submitter = threading.Thread(target=submit)
        submitter.start()
        time.sleep(1.5)
        stack.worker.kill()  # SIGKILL while commands are in flight
        stack.start_worker()
        submitter.join(timeout=300)
        bus.stop()
        assert done.is_set()
        assert errors == []
        assert stack.engine is not None
        assert wait_for_read_models(stack.engine)
        live = snapshot(stack.engine)
        assert stack.broker is not None
        bootstrap = stack.broker.bootstrap
        clean = db.create(f"sqlite:///{tmp_path / 'clean.db'}")
        db.create_schema(clean)
        rebuild_into(clean, bootstrap, settings.topic_partitions)

        assert snapshot(clean) == live
        with stack.engine.connect() as conn:
            chains = conn.execute(select(audit_log.c.chain_valid)).scalars().all()
        assert chains == [True] * (60 * 4)
        clean.dispose()


def test_a_blue_green_rebuild_while_the_worker_projects_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    settings = stack_settings(tmp_path / "data")
    with EmbeddedStack(settings) as stack:
        bus = CommandBus(settings)
        bus.start()
        first = [_case_commands(f"G-{n:03d}") for n in range(30)]
        asyncio.run(_submit_until_answered(bus, first))
        more = [_case_commands(f"H-{n:03d}") for n in range(40)]
        errors: list[BaseException] = []

        def submit() -> None:
            try:
                asyncio.run(_submit_until_answered(bus, more))
            except BaseException as exc:
                errors.append(exc)

        submitter = threading.Thread(target=submit)
        submitter.start()  # the live worker keeps projecting through the rebuild and switch
        assert stack.engine is not None
        assert stack.broker is not None
        report = rebuild_beside(stack.engine, stack.broker.bootstrap, settings.topic_partitions)
        submitter.join(timeout=300)
        bus.stop()
        assert errors == []
        assert report.filled.events >= 30 * 4
        assert wait_for_read_models(stack.engine)
        live = snapshot(stack.engine)
        clean = db.create(f"sqlite:///{tmp_path / 'clean.db'}")
        db.create_schema(clean)
        rebuild_into(clean, stack.broker.bootstrap, settings.topic_partitions)

        assert snapshot(clean) == live
        assert len(live["audit_log"]) == (30 + 40) * 4


def test_a_restarted_stack_keeps_every_event_and_continues_each_chain(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path / "data")
    with EmbeddedStack(settings) as stack:
        client = Client(stack.url, issue(stack, Role.OFFICER))
        report(client, "R-1")
        identify(client, "R-1", "NPL")
        assert stack.engine is not None
        before = snapshot(stack.engine)

    with EmbeddedStack(settings) as restarted:
        assert restarted.restore_report is not None
        assert restarted.restore_report.events == 2
        assert restarted.restore_report.offsets_preserved
        client = Client(restarted.url, issue(restarted, Role.OFFICER))
        notified = notify(client, "R-1", "NPL")
        assert restarted.engine is not None
        after = snapshot(restarted.engine)

    assert notified["__typename"] == "Accepted"
    assert notified["events"][0]["sequence"] == 3
    assert len(after["audit_log"]) == 3
    assert set(before["audit_log"]) <= set(after["audit_log"])


def test_with_the_broker_down_a_mutation_fails_fast_with_a_clear_error(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path / "data")
    with EmbeddedStack(settings) as stack:
        client = Client(stack.url, issue(stack, Role.OFFICER))
        assert stack.broker is not None
        stack.broker.stop()

        response = client.post(
            'mutation { reportAllegation(input: {caseId: "DOWN-1", allegationType: OTHER}) '
            "{ __typename } }"
        )
        answer = response.json()
        ready = httpx.get(f"{stack.url}/readyz")

    assert ready.status_code == 503
    servers = settings.kafka_bootstrap_servers
    assert ready.json()["problems"] == [
        f"broker: cannot connect to {servers} (ConnectionRefusedError)"
    ]

    assert response.status_code == 200
    assert answer["data"] is None or answer["data"]["reportAllegation"] is None
    assert answer["errors"][0]["extensions"]["code"] == "BROKER_UNAVAILABLE"
    assert "nothing was recorded" in answer["errors"][0]["message"]


# --- the command line ---------------------------------------------------------------


def test_accountability_run_prints_a_credential_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    settings = stack_settings(tmp_path / "data")
    env = {**os.environ, **settings.as_environment()}
    process = subprocess.Popen(
        [sys.executable, "-m", "accountability.services.cli", "run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Press Ctrl-C to stop." in line or process.poll() is not None:
            break
    children = descendants(process.pid)
    token = next((ln.split()[-1] for ln in lines if ln.strip().startswith("credential")), "")
    answer = Client(f"http://127.0.0.1:{settings.api_port}", token).post(
        "{ cases(first: 1) { edges { cursor } } }"
    )

    process.send_signal(signal.SIGINT)
    status = process.wait(timeout=60)
    process.stdout.close()

    assert token.startswith("acct_"), "".join(lines)
    assert answer.status_code == 200, answer.text
    assert len(children) >= 3  # broker, worker, api
    assert status == 0
    assert [pid for pid in children if running(pid)] == []
