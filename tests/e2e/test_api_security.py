"""End to end: access control of the running stack (Tansu, Faust worker, API process).

Cross-tenant attempts through the real decider, subscriptions over a real WebSocket,
revocation with the product's command and expiry taking effect at once, the limits,
and the access log as oversight reads it.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from support.net import free_port
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from accountability.events.vocabulary import Role
from accountability.services import credentials
from accountability.services.settings import Secret, Settings
from accountability.services.stack import EmbeddedStack
from accountability.services.store import audit_archive, command_results

pytestmark = [pytest.mark.slow, pytest.mark.broker]


def stack_settings(data_dir: Path) -> Settings:
    return replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=Secret(f"sqlite:///{data_dir / 'accountability.db'}"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        worker_id=f"accountability-sec-{uuid.uuid4().hex[:8]}",
        command_timeout_seconds=20.0,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(stack_settings(tmp_path_factory.mktemp("security"))) as running:
        yield running


def issue(
    stack: EmbeddedStack, role: Role, member_state: str | None = None, **kw: Any
) -> tuple[str, str]:
    assert stack.engine is not None
    now = datetime.now(UTC)
    with stack.engine.begin() as conn:
        principal = credentials.ensure_principal(
            conn, principal_id=f"{role.value}-{member_state or 'un'}", name="e2e",
            role=role, member_state=member_state, now=now,
        )  # fmt: skip
        issued = credentials.issue(conn, principal, "e2e", now, **kw)
    return issued.credential_id, issued.token


class Caller:
    def __init__(self, stack: EmbeddedStack, token: str | None) -> None:
        self.url, self.token = stack.url, token

    def post(self, query: str, **variables: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables},
                          headers=headers, timeout=30)  # fmt: skip

    def ask(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(query, **variables)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def mutate(self, name: str, input_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        answer = self.ask(
            f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename "
            "... on Accepted { events { type } } ... on Rejected { code message field } } }",
            i=fields,
        )
        outcome: dict[str, Any] = answer["data"][name] if answer.get("data") else answer
        return outcome

    def socket(self) -> ClientConnection:
        url = self.url.replace("http://", "ws://") + "/graphql"
        ws = connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], legacy=True)
        payload = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        return ws


def subscribe(ws: ClientConnection, op_id: str, query: str) -> None:
    ws.send(json.dumps({"type": "subscribe", "id": op_id, "payload": {"query": query}}))


def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return found


@pytest.fixture(scope="module")
def officer(stack: EmbeddedStack) -> Caller:
    return Caller(stack, issue(stack, Role.OFFICER)[1])


@pytest.fixture(scope="module")
def pakistan(stack: EmbeddedStack) -> Caller:
    return Caller(stack, issue(stack, Role.MEMBER_STATE, "PAK")[1])


@pytest.fixture(scope="module")
def oversight(stack: EmbeddedStack) -> Caller:
    return Caller(stack, issue(stack, Role.OVERSIGHT)[1])


@pytest.fixture(scope="module")
def cases(officer: Caller) -> dict[str, str]:
    """One case involving a national of Pakistan, one of Nepal, both notified."""
    for case_id, nationality in (("SEC-PAK", "PAK"), ("SEC-NPL", "NPL")):
        at = "2024-05-01T08:00:00Z"
        officer.mutate("reportAllegation", "ReportAllegationInput", {
            "caseId": case_id, "allegationType": "SEXUAL_ABUSE", "mission": "MINUSCA",
            "occurredAt": at})  # fmt: skip
        officer.mutate("identifyAllegedPerpetrator", "IdentifyAllegedPerpetratorInput", {
            "caseId": case_id, "category": "MILITARY_MC", "nationality": nationality,
            "occurredAt": at})  # fmt: skip
        notified = officer.mutate(
            "notifyMemberState",
            "NotifyMemberStateInput",
            {"caseId": case_id, "memberState": nationality, "occurredAt": "2024-05-02T08:00:00Z"},
        )
        assert notified["__typename"] == "Accepted", notified  # fmt: skip
    return {"own": "SEC-PAK", "foreign": "SEC-NPL"}


def _writes(stack: EmbeddedStack) -> tuple[int, int]:
    assert stack.engine is not None
    with stack.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(audit_archive)).scalar_one()
        answers = conn.execute(select(func.count()).select_from(command_results)).scalar_one()
    return int(events), int(answers)


def test_a_member_state_cannot_tell_a_foreign_case_from_a_missing_one(
    stack: EmbeddedStack, pakistan: Caller, cases: dict[str, str]
) -> None:
    def attempt(case_id: str) -> list[Any]:
        rejected = pakistan.mutate("replyIntentToInvestigate", "MemberStateInput",
                                   {"caseId": case_id, "memberState": "PAK"})  # fmt: skip
        read = pakistan.ask(f'{{ case(id: "{case_id}") {{ caseId }} }}')["errors"][0]
        trail = pakistan.ask(
            f'{{ auditTrail(streamId: "case:{case_id}") {{ edges {{ cursor }} }} }}'
        )
        return [
            (rejected["code"], rejected["message"].replace(case_id, "<id>"), rejected["field"]),
            (read["message"].replace(case_id, "<id>"), read["extensions"]),
            trail["errors"][0]["message"].replace(case_id, "<id>"),
        ]

    foreign, missing = attempt(cases["foreign"]), attempt("SEC-NONE")
    own = pakistan.mutate("replyIntentToInvestigate", "MemberStateInput",
                          {"caseId": cases["own"], "memberState": "PAK"})  # fmt: skip

    assert foreign == missing
    assert foreign[0][0] == "FORBIDDEN_MEMBER_STATE"
    assert own["__typename"] == "Accepted"


@pytest.mark.parametrize("who", ["public", "oversight"])
def test_a_mutation_without_the_right_is_refused_before_the_broker(
    stack: EmbeddedStack, oversight: Caller, who: str
) -> None:
    caller = oversight if who == "oversight" else Caller(stack, None)
    before = _writes(stack)

    answer = caller.ask('mutation { reportAllegation(input: {caseId: "SEC-X", '
                        "allegationType: OTHER}) { __typename } }")  # fmt: skip

    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN" if who == "oversight" else "UNAUTHENTICATED"
    )
    assert _writes(stack) == before


def test_subscribers_see_new_events_of_what_they_may_read(
    officer: Caller, pakistan: Caller, oversight: Caller, cases: dict[str, str]
) -> None:
    watching_case, watching_country, auditing = (
        officer.socket(),
        pakistan.socket(),
        oversight.socket(),
    )
    subscribe(watching_case, "c", f'subscription {{ caseEvents(caseId: "{cases["foreign"]}") '
              "{ type streamId chainValid } }")  # fmt: skip
    subscribe(
        watching_country, "p", 'subscription { countryEvents(code: "PAK") { type streamId } }'
    )
    subscribe(auditing, "o", f'subscription {{ caseEvents(caseId: "{cases["own"]}") '
              "{ type envelope } }")  # fmt: skip
    pakistan_foreign = pakistan.socket()
    foreign = f'subscription {{ caseEvents(caseId: "{cases["foreign"]}") {{ type }} }}'
    subscribe(pakistan_foreign, "f", foreign)
    time.sleep(0.6)

    for case_id, state in ((cases["foreign"], "NPL"), (cases["own"], "PAK")):
        officer.mutate("requestFollowUp", "MemberStateInput",
                       {"caseId": case_id, "memberState": state})  # fmt: skip
    officer.mutate("recordVictim", "RecordVictimInput",
                   {"caseId": cases["own"], "ageGroup": "ADULT", "sex": "FEMALE"})  # fmt: skip
    on_case = receive(watching_case)
    on_country = [receive(watching_country), receive(watching_country)]
    audited = [receive(auditing), receive(auditing)]
    refused = receive(pakistan_foreign)
    for ws in (watching_case, watching_country, auditing, pakistan_foreign):
        ws.close()

    assert on_case["payload"]["data"]["caseEvents"] == {
        "type": "FollowUpRequested",
        "streamId": f"case:{cases['foreign']}",
        "chainValid": True,
    }
    assert [m["payload"]["data"]["countryEvents"]["type"] for m in on_country] == [
        "FollowUpRequested",
        "VictimRecorded",
    ]
    assert {m["payload"]["data"]["countryEvents"]["streamId"] for m in on_country} == {
        f"case:{cases['own']}"}  # fmt: skip
    assert json.loads(audited[0]["payload"]["data"]["caseEvents"]["envelope"])
    assert audited[1]["payload"]["data"] is None  # victim detail: oversight gets an error
    assert audited[1]["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"


def test_revoking_with_the_command_takes_effect_at_once(
    stack: EmbeddedStack, cases: dict[str, str]
) -> None:
    credential_id, token = issue(stack, Role.MEMBER_STATE, "PAK")
    holder = Caller(stack, token)
    ws = holder.socket()
    subscribe(ws, "1", f'subscription {{ caseEvents(caseId: "{cases["own"]}") {{ type }} }}')
    before = holder.post("{ cases(first: 1) { edges { cursor } } }")
    env = {**os.environ, **stack.settings.as_environment()}

    revoked = subprocess.run(
        [sys.executable, "-m", "accountability.services.cli", "credentials", "revoke",
         credential_id], env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    after = holder.post("{ cases(first: 1) { edges { cursor } } }")
    ended = receive(ws, timeout=5)
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)

    assert revoked.returncode == 0, revoked.stderr
    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert ended["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


def test_an_expired_credential_stops_working_at_once(stack: EmbeddedStack) -> None:
    _, token = issue(stack, Role.OVERSIGHT, valid_for=timedelta(seconds=3))
    holder = Caller(stack, token)
    ws = holder.socket()
    subscribe(ws, "1", 'subscription { countryEvents(code: "NPL") { type } }')
    before = holder.post("{ transparencyGaps { neverPublished { caseId } } }")

    time.sleep(3.2)
    after = holder.post("{ transparencyGaps { neverPublished { caseId } } }")
    ended = receive(ws, timeout=5)

    assert before.status_code == 200
    assert after.status_code == 401
    assert ended["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"query": '{ __type(name: "Query") { ' + "ofType { " * 25 + "name"
                      + " }" * 27}, 400, "QUERY_TOO_DEEP", id="depth"),
        pytest.param({"query": "{ " + " ".join(f"c{n}: cases(first: 100) {{ edges {{ cursor "
                      "} }" for n in range(30)) + " }"}, 400, "QUERY_TOO_COSTLY", id="cost"),
        pytest.param({"query": "{ cases(first: 1000) { edges { cursor } } }"}, 200,
                     "BAD_USER_INPUT", id="page"),
        pytest.param({"query": "{ __typename }", "padding": "x" * 1_100_000}, 413,
                     "PAYLOAD_TOO_LARGE", id="body"),
    ],
)  # fmt: skip
def test_the_limits_answer_with_clear_errors(
    officer: Caller, body: dict[str, Any], status: int, code: str
) -> None:
    response = httpx.post(f"{officer.url}/graphql", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {officer.token}"})  # fmt: skip

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_oversight_reads_who_read_what_and_every_credential_change(
    stack: EmbeddedStack, officer: Caller, oversight: Caller, pakistan: Caller,
    cases: dict[str, str],
) -> None:  # fmt: skip
    credential_id, _ = issue(stack, Role.OFFICER)
    officer.ask(f'{{ case(id: "{cases["own"]}") {{ caseId }} }}')
    query = (
        "query($p: String) { accessLog(first: 500, principalId: $p) { edges { node { "
        "principalId role action outcome ids } } } }"
    )

    reads = oversight.ask(query, p="officer-un")["data"]["accessLog"]["edges"]
    everything = oversight.ask(query)["data"]["accessLog"]["edges"]
    refused = [officer.ask(query), pakistan.ask(query), Caller(stack, None).ask(query)]

    assert {"principalId": "officer-un", "role": "officer", "action": "query.case",
            "outcome": "read", "ids": [cases["own"]]} in [e["node"] for e in reads]  # fmt: skip
    created = [e["node"] for e in everything if e["node"]["action"] == "credentials.create"]
    assert credential_id in [i for node in created for i in node["ids"]]
    assert all(node["role"] == "operator" for node in created)
    assert [r["errors"][0]["extensions"]["code"] for r in refused] == [
        "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"]  # fmt: skip
