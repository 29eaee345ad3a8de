"""Access control through the real API (HTTP and WebSocket, served by uvicorn) over a
real SQLite database, with the pure decider standing in for the broker and worker.

For each role and each query, mutation and subscription: allowed, or the precise
error (``test_access_mutations.py`` tries every mutation of the schema on a Member
State's behalf). Then revocation and expiry, limits, leaks and the access log.
"""

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from support.api import ROLES, Api, Socket, build_api, code_of, ws_connect
from support.domain import command
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope
from accountability.events.types import CaseId, CountryCode
from accountability.events.vocabulary import Role
from accountability.graphql import access, access_reads, scopes
from accountability.graphql.schema import build_schema
from accountability.projections.paging import decode_cursor
from accountability.services import cli, credentials, db
from accountability.services.access_log import AccessLog
from accountability.services.store import access_log


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from build_api(tmp_path_factory.mktemp("access"))


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Api]:
    """An API of its own, for tests that add events or change credentials."""
    yield from build_api(tmp_path)


# --- the policy table ---------------------------------------------------------------------


def test_every_field_of_the_schema_has_an_access_rule() -> None:
    schema = build_schema().graphql_schema
    uncovered = [
        f"{name}.{field}"
        for name, kind in schema.type_map.items()
        if not name.startswith("__") and hasattr(kind, "fields") and not hasattr(kind, "of_type")
        and type(kind).__name__ == "GraphQLObjectType"
        for field in kind.fields
        if access.rule_for(name, field) is None
    ]  # fmt: skip

    assert uncovered == []


def test_no_rule_names_a_field_that_does_not_exist() -> None:
    schema = build_schema().graphql_schema
    stale = []
    for key in access.POLICY:
        type_name, field_name = key.split(".")
        kind = schema.type_map.get(type_name)
        fields = getattr(kind, "fields", {})
        if kind is None or (field_name != "*" and field_name not in fields):
            stale.append(key)

    assert stale == []


# --- every query, mutation and subscription, for every role --------------------------------

U, F, OK = "UNAUTHENTICATED", "FORBIDDEN", "ok"
CASE_FIELDS = "caseId status nationalities victimGroups { women girls }"

QUERIES = [
    # (id, query, public, officer, member_state of PAK, oversight)
    ("country", '{ country(code: "NPL") { code allegations } }', OK, OK, OK, OK),
    ("countries", "{ countries(first: 5) { edges { node { code } } } }", OK, OK, OK, OK),
    ("statistics", "{ statistics(year: 2024) { allegations } }", OK, OK, OK, OK),
    ("deadlinePolicies", "{ deadlinePolicies { label } }", OK, OK, OK, OK),
    ("latestCheckpoint", "{ latestCheckpoint { id } }", OK, OK, OK, OK),
    ("checkpoint", "{ checkpoint(id: 1) { id } }", *["CHECKPOINT_NOT_FOUND"] * 4),
    ("checkpointPublicKey", "{ checkpointPublicKey }", OK, OK, OK, OK),
    ("countryCases-own", '{ countryCases(code: "PAK", figure: ALLEGATIONS) { caseIds } }',
     U, OK, OK, OK),
    ("countryCases-other", '{ countryCases(code: "NPL", figure: ALLEGATIONS) { caseIds } }',
     U, OK, F, OK),
    ("case-own", f'{{ case(id: "PAK-1") {{ {CASE_FIELDS} }} }}', U, OK, OK, OK),
    ("case-other", f'{{ case(id: "NPL-1") {{ {CASE_FIELDS} }} }}', U, OK, F, OK),
    ("case-missing", '{ case(id: "NONE-1") { caseId } }', U, "CASE_NOT_FOUND", F,
     "CASE_NOT_FOUND"),
    ("case-victims", '{ case(id: "PAK-1") { victims { ageGroup sex assistance } } }',
     U, OK, OK, F),
    ("cases", "{ cases(first: 10) { edges { node { caseId } } } }", U, OK, OK, OK),
    ("cases-other-filter", '{ cases(filter: {memberState: "NPL"}) { edges { node { caseId } } } }',
     U, OK, F, OK),
    ("transparencyGaps", "{ transparencyGaps { neverPublished { caseId } } }", U, OK, F, OK),
    ("auditTrail-own", '{ auditTrail(streamId: "case:PAK-1") { edges { node { type hash } } } }',
     U, OK, OK, OK),
    ("auditTrail-other", '{ auditTrail(streamId: "case:NPL-1") { edges { node { type } } } }',
     U, OK, F, OK),
    ("auditTrail-other-state", '{ auditTrail(streamId: "state:NPL") { edges { node { type } } } }',
     U, OK, F, OK),
    ("auditTrail-victim-envelope",
     '{ auditTrail(streamId: "case:PAK-1") { edges { node { envelope } } } }', U, OK, OK, F),
    ("auditTrail-plain-envelope",
     '{ auditTrail(streamId: "state:NPL") { edges { node { envelope } } } }', U, OK, F, OK),
    ("inclusionProof-own", "{ inclusionProof(eventId: $own) { leafIndex } }",
     U, "NO_CHECKPOINT", "NO_CHECKPOINT", "NO_CHECKPOINT"),
    ("inclusionProof-other", "{ inclusionProof(eventId: $other) { leafIndex } }",
     U, "NO_CHECKPOINT", F, "NO_CHECKPOINT"),
    ("consistencyProof", "{ consistencyProof(fromCheckpointId: 1) { partitions { path } } }",
     U, "CHECKPOINT_NOT_FOUND", "CHECKPOINT_NOT_FOUND", "CHECKPOINT_NOT_FOUND"),
    ("accessLog", "{ accessLog(first: 5) { edges { node { action } } } }", U, F, F, OK),
    ("freshness", "{ freshness { projection } }", OK, OK, OK, OK),
    ("deadLetters", "{ deadLetters(first: 5) { edges { node { id } } } }", U, OK, F, OK),
]  # fmt: skip


def _with_events(query: str, api: Api) -> tuple[str, dict[str, Any]]:
    if "$own" not in query and "$other" not in query:
        return query, {}
    name = "own" if "$own" in query else "other"
    stream = "case:PAK-1" if name == "own" else "case:NPL-1"
    event_id = next(e.event_id for e in api.log.envelopes if e.stream_id == stream)
    return f"query(${name}: ID!) " + query, {name: event_id}


@pytest.mark.parametrize(
    ("query", "role", "expected"),
    [
        pytest.param(query, role, expected, id=f"{name}-{role}")
        for name, query, *answers in QUERIES
        for role, expected in zip(ROLES, answers, strict=True)
    ],
)
def test_each_query_for_each_role(api: Api, query: str, role: str, expected: str) -> None:
    document, variables = _with_events(query, api)

    assert code_of(api.ask(document, role, **variables)) == expected


MUTATION = "mutation($i: {input}!) {{ {name}(input: $i) {{ __typename " \
    "... on Rejected {{ code message field }} }} }}"  # fmt: skip

MUTATIONS = [
    # (id, mutation, input type, input, public, officer, member_state of PAK, oversight)
    ("requestFollowUp-own", "requestFollowUp", "MemberStateInput",
     {"caseId": "PAK-1", "memberState": "PAK"}, U, OK, "Rejected:FORBIDDEN_ROLE", F),
    ("reply-own", "replyIntentToInvestigate", "MemberStateInput",
     {"caseId": "PAK-1", "memberState": "PAK"}, U, OK, OK, F),
    ("reply-other", "replyIntentToInvestigate", "MemberStateInput",
     {"caseId": "NPL-1", "memberState": "PAK"}, U, "Rejected:NOT_NOTIFIED",
     "Rejected:FORBIDDEN_MEMBER_STATE", F),
    ("reply-missing", "replyIntentToInvestigate", "MemberStateInput",
     {"caseId": "NONE-1", "memberState": "PAK"}, U, "Rejected:CASE_NOT_FOUND",
     "Rejected:FORBIDDEN_MEMBER_STATE", F),
    ("recordVictim-other", "recordVictim", "RecordVictimInput",
     {"caseId": "NPL-1", "ageGroup": "ADULT", "sex": "FEMALE"}, U, OK,
     "Rejected:FORBIDDEN_MEMBER_STATE", F),
    ("report", "reportAllegation", "ReportAllegationInput",
     {"caseId": "NEW-1", "allegationType": "SEXUAL_ABUSE", "mission": "MINUSCA"},
     U, OK, "Rejected:FORBIDDEN_ROLE", F),
    ("compact-own", "signVoluntaryCompact", "SignVoluntaryCompactInput",
     {"memberState": "PAK"}, U, OK, OK, F),
    ("compact-other", "signVoluntaryCompact", "SignVoluntaryCompactInput",
     {"memberState": "NPL"}, U, "Rejected:ALREADY_SIGNED", "Rejected:FORBIDDEN_MEMBER_STATE", F),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutation", "role", "expected"),
    [
        pytest.param((name, input_type, fields), role, expected, id=f"{case}-{role}")
        for case, name, input_type, fields, *answers in MUTATIONS
        for role, expected in zip(ROLES, answers, strict=True)
    ],
)
def test_each_mutation_for_each_role(
    api: Api, mutation: tuple[str, str, dict[str, Any]], role: str, expected: str
) -> None:
    name, input_type, fields = mutation
    sent = len(api.submitter.sent)

    answer = api.ask(MUTATION.format(input=input_type, name=name), role, i=fields)

    assert code_of(answer) == expected
    reached = len(api.submitter.sent) > sent
    assert reached == (role in ("officer", "member_state")), "refused before the broker"


SUBSCRIPTIONS = [
    ("caseEvents-own", 'subscription { caseEvents(caseId: "PAK-1") { type } }', U, OK, OK, OK),
    ("caseEvents-other", 'subscription { caseEvents(caseId: "NPL-1") { type } }', U, OK, F, OK),
    ("caseEvents-missing", 'subscription { caseEvents(caseId: "NONE") { type } }', U, OK, F, OK),
    ("countryEvents-own", 'subscription { countryEvents(code: "PAK") { type } }', U, OK, OK, OK),
    ("countryEvents-other", 'subscription { countryEvents(code: "NPL") { type } }', U, OK, F, OK),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "role", "expected"),
    [
        pytest.param(query, role, expected, id=f"{name}-{role}")
        for name, query, *answers in SUBSCRIPTIONS
        for role, expected in zip(ROLES, answers, strict=True)
    ],
)
def test_each_subscription_for_each_role(api: Api, query: str, role: str, expected: str) -> None:
    socket = api.socket(role)
    try:
        assert socket.receive() == {"type": "connection_ack"}
        socket.subscribe("1", query)
        socket.send({"type": "ping"})
        first = socket.receive()
        if first["type"] == "pong":  # a refusal may come before or after the pong
            try:
                first = socket.receive(timeout=0.5)
            except TimeoutError:
                first = {"type": "still running"}
    finally:
        socket.close()

    if expected == OK:
        assert first == {"type": "still running"}
    else:
        assert first["type"] == "error"
        assert first["payload"][0]["extensions"]["code"] == expected


@pytest.mark.parametrize(
    ("root", "table"),
    [pytest.param("query_type", QUERIES, id="queries"),
     pytest.param("subscription_type", SUBSCRIPTIONS, id="subscriptions")],
)  # fmt: skip
def test_the_tables_try_every_query_and_subscription(root: str, table: list[Any]) -> None:
    fields = getattr(build_schema().graphql_schema, root).fields

    assert {name.split("-")[0] for name, *_ in table} == set(fields)


# --- nothing leaks ------------------------------------------------------------------------


def _without_id(message: str, *ids: str) -> str:
    for case_id in ids:
        message = message.replace(case_id, "<id>")
    return message


def test_a_member_state_gets_the_same_answer_for_a_foreign_case_and_a_missing_one(
    api: Api,
) -> None:
    def errors(case_id: str) -> list[Any]:
        found: list[Any] = []
        for query in (
            f'{{ case(id: "{case_id}") {{ caseId }} }}',
            f'{{ auditTrail(streamId: "case:{case_id}") {{ edges {{ cursor }} }} }}',
        ):
            error = api.ask(query, "member_state")["errors"][0]
            found.append((_without_id(error["message"], case_id), error["extensions"]))
        answer = api.ask(
            MUTATION.format(input="MemberStateInput", name="declineToInvestigate"),
            "member_state", i={"caseId": case_id, "memberState": "PAK"},
        )["data"]["declineToInvestigate"]  # fmt: skip
        found.append((answer["code"], _without_id(answer["message"], case_id), answer["field"]))
        socket = api.socket("member_state")
        socket.receive()
        socket.subscribe("s", f'subscription {{ caseEvents(caseId: "{case_id}") {{ type }} }}')
        refused = socket.receive()["payload"][0]
        socket.close()
        found.append((_without_id(refused["message"], case_id), refused["extensions"]))
        return found

    assert errors("NPL-1") == errors("NOPE-9")


def test_a_member_state_pages_through_its_own_cases_only(api: Api) -> None:
    seen: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        page = api.ask(
            "query($after: String) { cases(first: 1, after: $after) { edges { cursor node "
            "{ caseId } } pageInfo { hasNextPage endCursor } } }",
            "member_state", after=after,
        )["data"]["cases"]  # fmt: skip
        seen += [e["node"]["caseId"] for e in page["edges"]]
        cursors += [e["cursor"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    officers = api.ask("{ cases(first: 10) { edges { cursor node { caseId } } } }", "officer")
    foreign = next(e["cursor"] for e in officers["data"]["cases"]["edges"]
                   if e["node"]["caseId"].startswith("NPL"))  # fmt: skip
    from_foreign = api.ask(
        "query($after: String) { cases(first: 10, after: $after) { edges { node { caseId } } } }",
        "member_state", after=foreign,
    )["data"]["cases"]["edges"]  # fmt: skip

    assert sorted(seen) == ["PAK-1", "PAK-2", "PAK-3"]
    assert all(decode_cursor(cursor, 2)[1].startswith("PAK") for cursor in cursors)
    assert all(e["node"]["caseId"].startswith("PAK") for e in from_foreign)


def test_oversight_verifies_every_event_but_reads_no_victim_record(api: Api) -> None:
    trail = api.ask(
        '{ auditTrail(streamId: "case:PAK-1") { edges { node { type hash prevHash chainValid '
        "actor { principalId } } } } }",
        "oversight",
    )
    envelope = api.ask(
        '{ auditTrail(streamId: "case:PAK-1") { edges { node { envelope } } } }', "oversight"
    )["errors"][0]
    case = api.ask('{ case(id: "PAK-1") { caseId victimGroups { girls } victims { sex } } }',
                   "oversight")  # fmt: skip

    assert "errors" not in trail
    assert "VictimRecorded" in [e["node"]["type"] for e in trail["data"]["auditTrail"]["edges"]]
    assert envelope["extensions"]["code"] == F
    assert "victim detail" in envelope["message"]
    assert case["data"] == {"case": None}
    assert case["errors"][0]["path"] == ["case", "victims"]


# --- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"query": "{ __type(name: \"Query\") { " + "ofType { " * 25 + "name"
                      + " }" * 25 + " } }"}, 400, "QUERY_TOO_DEEP", id="depth"),
        pytest.param({"query": "{ __schema { types { fields { type { fields { name } } } } } }"},
                     400, "QUERY_TOO_DEEP", id="introspection-loop"),
        pytest.param({"query": "{ " + " ".join(f"c{n}: countries(first: 100) {{ edges {{ node "
                      "{ code } } }" for n in range(40)) + " }"}, 400, "QUERY_TOO_COSTLY",
                     id="cost"),
        pytest.param({"query": "{ " + "__typename " * 6000 + "}"}, 400, "QUERY_TOO_LARGE",
                     id="tokens"),
        pytest.param({"query": "{ countries(first: 101) { edges { cursor } } }"}, 200,
                     "BAD_USER_INPUT", id="page-size"),
        pytest.param({"query": "{ cases(first: 0) { edges { cursor } } }"}, 200,
                     "BAD_USER_INPUT", id="page-size-zero"),
        pytest.param({"query": "{ accessLog(first: 501) { edges { cursor } } }"}, 200,
                     "BAD_USER_INPUT", id="access-log-page-size"),
        pytest.param({"query": "{ __typename }", "pad": "x" * (1024 * 1024)}, 413,
                     "PAYLOAD_TOO_LARGE", id="body"),
        pytest.param({"query": 'subscription { caseEvents(caseId: "PAK-1") { type } }'}, 400,
                     "SUBSCRIPTION_NEEDS_WEBSOCKET", id="subscription-over-http"),
    ],
)  # fmt: skip
def test_limits_give_clear_errors(api: Api, body: dict[str, Any], status: int, code: str) -> None:
    headers = {"Authorization": f"Bearer {api.tokens['oversight']}"}

    response = httpx.post(f"{api.url}/graphql", json=body, headers=headers, timeout=30)

    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    assert error["message"]


def test_a_websocket_message_over_the_size_limit_closes_the_socket(api: Api) -> None:
    socket = api.socket("officer")
    socket.receive()
    socket.subscribe("1", "{ __typename }", pad="x" * (1024 * 1024))

    with pytest.raises(ConnectionClosed) as closed:
        socket.receive()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


# --- credentials take effect at once ------------------------------------------------------------


def test_revocation_with_the_command_refuses_the_next_request_and_closes_sockets(
    fresh: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    credential_id, token = fresh.issue(Role.MEMBER_STATE, "PAK")
    fresh.tokens["revoked"] = token
    before = fresh.post('{ case(id: "PAK-1") { caseId } }', "revoked")
    socket = fresh.socket("revoked")
    socket.receive()
    socket.subscribe("1", 'subscription { caseEvents(caseId: "PAK-1") { type } }')
    monkeypatch.setenv("ACCOUNTABILITY_DATABASE_URL", str(fresh.engine.url))

    status = cli.main(["credentials", "revoke", credential_id])
    after = fresh.post('{ case(id: "PAK-1") { caseId } }', "revoked")
    ended = socket.receive(timeout=3)
    with pytest.raises(ConnectionClosed) as closed:
        socket.receive(timeout=3)

    assert (status, capsys.readouterr().out.strip()) == (0, f"revoked {credential_id}")
    assert before.status_code == 200
    assert "errors" not in before.json()
    assert after.status_code == 401
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert ended["type"] == "error"
    assert ended["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


def test_an_expired_credential_is_refused_at_once_over_http_and_websocket(fresh: Api) -> None:
    _, token = fresh.issue(Role.OFFICER, valid_for=timedelta(hours=1))
    fresh.tokens["expiring"] = token
    socket = fresh.socket("expiring")
    socket.receive()
    socket.subscribe("1", 'subscription { countryEvents(code: "PAK") { type } }')
    before = fresh.post("{ cases(first: 1) { edges { cursor } } }", "expiring")

    fresh.clock.offset = timedelta(hours=1)
    after = fresh.post("{ cases(first: 1) { edges { cursor } } }", "expiring")
    ended = socket.receive(timeout=3)
    with pytest.raises(ConnectionClosed) as closed:
        socket.receive(timeout=3)
    late = Socket(fresh, "expiring", "graphql-transport-ws")
    with pytest.raises(ConnectionClosed) as refused:
        late.receive(timeout=3)

    assert before.status_code == 200
    assert after.status_code == 401
    assert ended["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert refused.value.rcvd is not None
    assert refused.value.rcvd.code == 4403


# --- subscriptions --------------------------------------------------------------------------------


def _follow_up(case_id: str, member_state: str) -> CommandEnvelope:
    at = datetime(2024, 4, 1, tzinfo=UTC)
    return command(c.RequestFollowUp(CaseId(case_id), CountryCode(member_state)), at=at)


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
def test_subscribers_get_the_new_events_they_may_see(fresh: Api, protocol: str) -> None:
    officer = fresh.socket("officer", protocol)
    pakistan = fresh.socket("member_state", protocol)
    for socket in (officer, pakistan):
        socket.receive()
    start = "subscribe" if protocol == "graphql-transport-ws" else "start"
    officer.send(
        {
            "type": start,
            "id": "case",
            "payload": {
                "query": 'subscription { caseEvents(caseId: "NPL-1") { type sequence chainValid } }'
            },
        }
    )
    pakistan.send({"type": start, "id": "country", "payload": {
        "query": 'subscription { countryEvents(code: "PAK") { type streamId } }'}})  # fmt: skip
    time.sleep(0.5)  # both sources have taken their starting position

    fresh.apply(_follow_up("NPL-1", "NPL"), _follow_up("PAK-2", "PAK"))
    on_case = officer.receive()
    on_country = pakistan.receive()
    with pytest.raises(TimeoutError):
        pakistan.receive(timeout=0.6)  # NPL-1's event is not Pakistan's

    data = "next" if protocol == "graphql-transport-ws" else "data"
    assert on_case == {"type": data, "id": "case", "payload": {"data": {"caseEvents": {
        "type": "FollowUpRequested", "sequence": 5, "chainValid": True}}}}  # fmt: skip
    assert on_country["payload"]["data"]["countryEvents"] == {
        "type": "FollowUpRequested", "streamId": "case:PAK-2"}  # fmt: skip


def test_a_subscription_refused_at_the_protocol_level_gets_the_protocol_close_codes(
    api: Api,
) -> None:
    bare = ws_connect(api.url.replace("http://", "ws://") + "/graphql")
    with pytest.raises(ConnectionClosed) as no_protocol:
        bare.recv(timeout=3)
    early = ws_connect(api.url.replace("http://", "ws://") + "/graphql", "graphql-transport-ws")
    early.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{ x }"}}))
    with pytest.raises(ConnectionClosed) as unacknowledged:
        early.recv(timeout=3)
    forged = fresh_socket_with(api, "acct_0000000000000000_" + "x" * 43)
    with pytest.raises(ConnectionClosed) as bad_credential:
        forged.recv(timeout=3)

    assert [e.value.rcvd.code for e in (no_protocol, unacknowledged, bad_credential)
            if e.value.rcvd is not None] == [4406, 4401, 4403]  # fmt: skip


def fresh_socket_with(api: Api, token: str) -> ClientConnection:
    ws = ws_connect(api.url.replace("http://", "ws://") + "/graphql", "graphql-transport-ws")
    ws.send(json.dumps({"type": "connection_init",
                        "payload": {"Authorization": f"Bearer {token}"}}))  # fmt: skip
    return ws


# --- the access log -------------------------------------------------------------------------------


def _entries(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(access_log).order_by(access_log.c.entry_id)).mappings()
        return [{**row, "ids": json.loads(row["ids"])} for row in rows]


def test_confidential_reads_and_refusals_are_recorded(fresh: Api) -> None:
    before = len(_entries(fresh.engine))

    fresh.ask('{ case(id: "PAK-1") { caseId } }', "member_state")
    fresh.ask('{ case(id: "NPL-1") { caseId } }', "member_state")
    fresh.ask("{ cases(first: 2) { edges { cursor } } }", "officer")
    fresh.ask('{ countryCases(code: "PAK", figure: NOTIFICATIONS) { caseIds } }', "oversight")
    fresh.ask('{ country(code: "PAK") { code } }', "officer")  # public: not recorded
    entries = _entries(fresh.engine)[before:]

    assert [(e["principal_id"], e["role"], e["member_state"], e["action"], e["outcome"], e["ids"])
            for e in entries] == [
        ("member_state-PAK", "member_state", "PAK", "query.case", "read", ["PAK-1"]),
        ("member_state-PAK", "member_state", "PAK", "query.case", "denied", []),
        ("officer-un", "officer", None, "query.cases", "read", ["PAK-3", "PAK-2"]),
        ("oversight-un", "oversight", None, "query.countryCases", "read",
         ["PAK-1", "PAK-2", "PAK-3"]),
    ]  # fmt: skip
    assert json.loads(entries[1]["arguments"]) == {"id": "NPL-1"}
    assert all(e["at"] is not None for e in entries)


def test_credential_changes_are_recorded_with_who_made_them(fresh: Api) -> None:
    credential_id, _ = fresh.issue(Role.OVERSIGHT, valid_for=timedelta(days=2))
    with fresh.engine.begin() as conn:
        credentials.revoke(conn, credential_id, datetime.now(UTC), by="operator:duty-desk")
    log = fresh.ask(
        "query($p: String) { accessLog(first: 500, principalId: $p) { edges { node { "
        "principalId role action outcome ids arguments } } } }",
        "oversight", p="operator:duty-desk",
    )["data"]["accessLog"]["edges"]  # fmt: skip
    created = [e for e in _entries(fresh.engine) if e["action"] == "credentials.create"]

    assert [n["node"]["action"] for n in log] == ["credentials.revoke"]
    assert log[0]["node"]["ids"] == [credential_id]
    assert log[0]["node"]["role"] == "operator"
    assert created[-1]["ids"] == [credential_id]
    assert json.loads(created[-1]["arguments"])["expires_at"] is not None
    assert created[-1]["principal_id"].startswith("operator:")


def test_only_oversight_reads_the_access_log_page_by_page(fresh: Api) -> None:
    for _ in range(3):
        fresh.ask('{ case(id: "PAK-2") { caseId } }', "officer")
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    query = (
        "query($after: String, $since: Instant) { accessLog(first: 2, after: $after, "
        "principalId: \"officer-un\", since: $since) { edges { cursor node { action ids } } "
        "pageInfo { hasNextPage endCursor } } }"
    )  # fmt: skip
    first = fresh.ask(query, "oversight", since=since)["data"]["accessLog"]
    second = fresh.ask(query, "oversight", since=since,
                       after=first["pageInfo"]["endCursor"])["data"]["accessLog"]  # fmt: skip

    assert [e["node"]["ids"] for e in first["edges"] + second["edges"]] == [["PAK-2"]] * 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
    for role in ("officer", "member_state"):
        assert code_of(fresh.ask(query, role, since=since)) == F
    assert code_of(fresh.ask(query, "public", since=since)) == U


def test_a_read_that_cannot_be_recorded_is_not_answered(tmp_path: Path) -> None:
    unwritable = db.create(f"sqlite:///{tmp_path / 'no-schema.db'}")  # no access_log table
    api = build_api(tmp_path, access_engine=unwritable)
    served = next(api)  # a generator: close() stops its server
    try:
        refused = served.post('{ case(id: "PAK-1") { caseId } }', "officer")
        public = served.post('{ country(code: "PAK") { code } }')
    finally:
        api.close()

    assert refused.status_code == 503
    assert refused.json()["errors"][0]["extensions"]["code"] == "ACCESS_LOG_UNAVAILABLE"
    assert "PAK-1" not in refused.text
    assert public.status_code == 200


def test_reads_recorded_one_after_another_or_at_once_are_all_kept_in_few_commits(
    tmp_path: Path,
) -> None:
    engine = db.create(f"sqlite:///{tmp_path / 'log.db'}")
    db.create_schema(engine)
    log = AccessLog(engine)
    commits: list[int] = []
    write = log._write

    def counted(rows: list[dict[str, Any]]) -> None:
        commits.append(len(rows))
        write(rows)

    log._write = counted  # type: ignore[method-assign]
    reader = Actor("officer-1", Role.OFFICER)
    read = access_reads.Read("query.case", "read", ("C-1",), {"id": "C-1"})

    async def sequential(n: int) -> None:
        for _ in range(n):
            await log.record(reader, [read])

    async def concurrent(n: int) -> None:
        await asyncio.gather(*(log.record(reader, [read]) for _ in range(n)))

    asyncio.run(sequential(50))
    assert sum(commits) == 50
    commits.clear()
    asyncio.run(concurrent(200))

    assert sum(commits) == 200
    assert len(commits) <= 20, f"200 concurrent reads took {len(commits)} commits"
    assert len(_entries(engine)) == 250
    log.close()


def test_everything_refused_before_a_resolver_is_named_in_one_table() -> None:
    refusals: list[Callable[..., Any]] = [
        scopes.own_case, scopes.own_country, scopes.own_cases, scopes.own_stream,
        scopes.own_event, scopes.no_victim_detail,
    ]  # fmt: skip
    used = {rule.scope for rule in access.POLICY.values() if rule.scope is not None}

    assert used == set(refusals)
