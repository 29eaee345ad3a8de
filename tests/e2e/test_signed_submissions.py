"""End to end, over HTTP on the embedded stack: Member States sign what they submit, and
a victim's narrative is sealed, read by officers only, and erased for good.

Signatures: a state registers a key, then every submission of its principals is signed
or refused with a code that names why; the signed events verify offline, in an
exported bundle, and a forged one is named. Erasure: the text is read back by an
officer, withheld from a Member State, then erased; after that it is gone from every
answer and every copy, and ``verify`` is green on a bundle and on the live log.
"""

import base64
import json
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from support.net import free_port

from accountability.events.codec import canonical_json
from accountability.events.envelope import hash_body
from accountability.events.signing import b64, key_id_of
from accountability.events.vocabulary import Role
from accountability.services import credentials
from accountability.services.bundle import EVENTS, MEMBERS, export_bundle
from accountability.services.checkpoints import default_key_path, publish_checkpoint
from accountability.services.settings import Secret, Settings
from accountability.services.signatures import sign_document
from accountability.services.stack import EmbeddedStack
from accountability.services.store import case_keys
from accountability.services.verify import verify_bundle
from accountability.services.verify_live import verify_live

pytestmark = [pytest.mark.slow, pytest.mark.broker]

CASE = "SIG-1"
ERASED = "ERASE-1"
ACCOUNT = "She was twelve; the man in uniform came back three nights in a row."
NOTE = "The family has since moved to the camp's northern sector."


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
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def mutate(self, name: str, input_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = self.post(
            f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename "
            "... on Accepted { commandId events { eventId type hash payload "
            "  signature { keyId signature commandType } } }"
            " ... on Rejected { code message field } } }",
            {"i": fields},
        )
        assert "errors" not in body, body
        outcome: dict[str, Any] = body["data"][name]
        return outcome


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(stack_settings(tmp_path_factory.mktemp("signed"))) as running:
        yield running


def issue(stack: EmbeddedStack, role: Role, member_state: str | None = None) -> Client:
    assert stack.engine is not None
    now = datetime.now(UTC)
    with stack.engine.begin() as conn:
        principal = credentials.ensure_principal(
            conn, principal_id=f"{role.value}-{member_state or 'un'}", name="e2e", role=role,
            member_state=member_state, now=now,
        )  # fmt: skip
        return Client(stack.url, credentials.issue(conn, principal, "e2e", now).token)


@pytest.fixture(scope="module")
def officer(stack: EmbeddedStack) -> Client:
    return issue(stack, Role.OFFICER)


@pytest.fixture(scope="module")
def gabon(stack: EmbeddedStack) -> Client:
    return issue(stack, Role.MEMBER_STATE, "GAB")


@pytest.fixture(scope="module")
def nepal(stack: EmbeddedStack) -> Client:
    return issue(stack, Role.MEMBER_STATE, "NPL")


def _case(officer: Client, case_id: str) -> None:
    for name, input_type, fields in [
        ("reportAllegation", "ReportAllegationInput",
         {"allegationType": "SEXUAL_ABUSE", "mission": "MINUSCA",
          "occurredAt": "2024-05-01T08:00:00Z"}),
        ("identifyAllegedPerpetrator", "IdentifyAllegedPerpetratorInput",
         {"category": "MILITARY_MC", "nationality": "GAB", "occurredAt": "2024-05-01T09:00:00Z"}),
        ("notifyMemberState", "NotifyMemberStateInput",
         {"memberState": "GAB", "occurredAt": "2024-05-03T09:00:00Z"}),
    ]:  # fmt: skip
        outcome = officer.mutate(name, input_type, {"caseId": case_id, **fields})
        assert outcome["__typename"] == "Accepted", outcome


# --- signatures -------------------------------------------------------------------------------

GAB_KEY = Ed25519PrivateKey.generate()
GAB_NEXT_KEY = Ed25519PrivateKey.generate()
NPL_KEY = Ed25519PrivateKey.generate()


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def signed_input(
    key: Ed25519PrivateKey, type_name: str, stream_id: str, payload: dict[str, Any],
    fields: dict[str, Any], *, occurred_at: str = "2024-05-06T09:00:00Z",
) -> dict[str, Any]:  # fmt: skip
    """``fields`` of a mutation, with a fresh command id, the instant and the signature."""
    command_id = str(uuid.uuid4())
    made = sign_document(key, {
        "command_id": command_id, "type": type_name, "stream_id": stream_id,
        "occurred_at": occurred_at, "payload": payload,
    })  # fmt: skip
    return {**fields, "commandId": command_id, "occurredAt": occurred_at,
            "signature": made.to_input()}  # fmt: skip


def reply(key: Ed25519PrivateKey, case_id: str = CASE, **kw: Any) -> dict[str, Any]:
    payload = {"case_id": case_id, "member_state": "GAB"}
    return signed_input(key, "ReplyIntentToInvestigate", f"case:{case_id}", payload,
                        {"caseId": case_id, "memberState": "GAB"}, **kw)  # fmt: skip


def code(outcome: dict[str, Any]) -> tuple[str, str | None]:
    assert outcome["__typename"] == "Rejected", outcome
    return outcome["code"], outcome["field"]


@pytest.fixture(scope="module")
def registered(officer: Client, gabon: Client, nepal: Client) -> dict[str, Any]:
    """Gabon and Nepal each register a key (Gabon's as a PEM); two cases of a Gabonese
    national (the second to submit for with a signature made for the first)."""
    _case(officer, CASE)
    _case(officer, "SIG-2")
    first = gabon.mutate("registerSigningKey", "RegisterSigningKeyInput",
                         {"memberState": "GAB", "publicKey": pem(GAB_KEY)})  # fmt: skip
    other = nepal.mutate("registerSigningKey", "RegisterSigningKeyInput",
                         {"memberState": "NPL", "publicKey": b64(raw(NPL_KEY))})  # fmt: skip
    assert first["__typename"] == other["__typename"] == "Accepted", (first, other)
    return first


def test_a_registered_key_is_named_by_its_id_and_kept_raw(registered: dict[str, Any]) -> None:
    [event] = registered["events"]
    assert event["type"] == "SigningKeyRegistered"
    assert json.loads(event["payload"]) == {
        "member_state": "GAB", "key_id": key_id_of(raw(GAB_KEY)), "public_key": b64(raw(GAB_KEY)),
    }  # fmt: skip
    assert event["signature"] is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(lambda: {"caseId": CASE, "memberState": "GAB"},
                     ("SIGNATURE_REQUIRED", "signature"), id="missing-when-required"),
        pytest.param(lambda: {**reply(GAB_KEY), "caseId": "SIG-2"},
                     ("INVALID_SIGNATURE", "signature"), id="altered-payload"),
        pytest.param(lambda: {**reply(GAB_KEY), "occurredAt": "2024-05-05T09:00:00Z"},
                     ("INVALID_SIGNATURE", "signature"), id="altered-instant"),
        pytest.param(lambda: reply(NPL_KEY), ("UNKNOWN_SIGNING_KEY", "signature"),
                     id="another-states-key"),
        pytest.param(lambda: reply(Ed25519PrivateKey.generate()),
                     ("UNKNOWN_SIGNING_KEY", "signature"), id="unregistered-key"),
        pytest.param(lambda: {k: v for k, v in reply(GAB_KEY).items() if k != "commandId"},
                     ("SIGNED_FIELDS_MISSING", "commandId"), id="command-id-not-given"),
        pytest.param(lambda: {**reply(GAB_KEY), "signature": {"keyId": "x", "signature": "!"}},
                     ("INVALID_SIGNATURE", "signature"), id="not-base64"),
    ],
)  # fmt: skip
def test_a_submission_the_state_could_deny_is_refused_and_nothing_is_recorded(
    registered: dict[str, Any], gabon: Client, officer: Client, fields, expected
) -> None:
    before = _trail(officer, f"case:{CASE}")

    assert code(gabon.mutate("replyIntentToInvestigate", "MemberStateInput", fields())) == expected
    assert _trail(officer, f"case:{CASE}") == before


def _trail(client: Client, stream_id: str) -> list[str]:
    body = client.post(
        "query($s: String!) { auditTrail(streamId: $s, first: 100) { edges { node { type } } } }",
        {"s": stream_id},
    )
    return [e["node"]["type"] for e in body["data"]["auditTrail"]["edges"]]


def test_an_officer_does_not_sign(registered: dict[str, Any], officer: Client) -> None:
    fields = reply(GAB_KEY)

    assert code(officer.mutate("requestFollowUp", "MemberStateInput", fields)) == (
        "SIGNATURE_NOT_EXPECTED", "signature",
    )  # fmt: skip


def test_a_signed_submission_is_accepted_with_its_signature_in_every_event(
    registered: dict[str, Any], gabon: Client
) -> None:
    accepted = gabon.mutate("replyIntentToInvestigate", "MemberStateInput", reply(GAB_KEY))

    assert accepted["__typename"] == "Accepted", accepted
    [event] = accepted["events"]
    assert event["signature"]["keyId"] == key_id_of(raw(GAB_KEY))
    assert event["signature"]["commandType"] == "ReplyIntentToInvestigate"


def contribution(key: Ed25519PrivateKey, state: str) -> dict[str, Any]:
    return signed_input(key, "ContributeToTrustFund", f"state:{state}",
                        {"member_state": state, "amount_usd": 1000},
                        {"memberState": state, "amountUsd": 1000})  # fmt: skip


def test_a_state_rotates_its_key_and_a_revoked_key_signs_nothing_more(
    stack: EmbeddedStack,
) -> None:
    rwanda = issue(stack, Role.MEMBER_STATE, "RWA")
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    registered = rwanda.mutate("registerSigningKey", "RegisterSigningKeyInput",
                               {"memberState": "RWA", "publicKey": pem(first)})  # fmt: skip
    rotate = signed_input(first, "RegisterSigningKey", "state:RWA",
                          {"member_state": "RWA", "public_key": b64(raw(second))},
                          {"memberState": "RWA", "publicKey": pem(second)})  # fmt: skip
    rotated = rwanda.mutate("registerSigningKey", "RegisterSigningKeyInput", rotate)
    old = key_id_of(raw(first))
    revoke = signed_input(second, "RevokeSigningKey", "state:RWA",
                          {"member_state": "RWA", "key_id": old},
                          {"memberState": "RWA", "keyId": old})  # fmt: skip
    revoked = rwanda.mutate("revokeSigningKey", "RevokeSigningKeyInput", revoke)

    assert [o["__typename"] for o in (registered, rotated, revoked)] == ["Accepted"] * 3
    refused = rwanda.mutate("contributeToTrustFund", "TrustFundContributionInput",
                            contribution(first, "RWA"))  # fmt: skip
    assert code(refused) == ("SIGNING_KEY_REVOKED", "signature")
    accepted = rwanda.mutate("contributeToTrustFund", "TrustFundContributionInput",
                             contribution(second, "RWA"))  # fmt: skip
    assert accepted["events"][0]["signature"]["keyId"] == key_id_of(raw(second))


def test_signed_events_verify_in_a_bundle_and_a_forged_one_is_named(
    stack: EmbeddedStack, gabon: Client, registered: dict[str, Any], tmp_path: Path
) -> None:
    signed = gabon.mutate("contributeToTrustFund", "TrustFundContributionInput",
                          contribution(GAB_KEY, "GAB"))  # fmt: skip
    assert signed["__typename"] == "Accepted", signed
    assert stack.engine is not None
    key_path = default_key_path(stack.settings)
    publish_checkpoint(stack.engine, key_path, datetime.now(UTC),
                       partitions=stack.settings.topic_partitions)  # fmt: skip
    exported = export_bundle(stack.engine, tmp_path / "bundle.tar.gz", key_path)

    report = verify_bundle(exported.path)

    assert report.ok, report.render()
    assert report.signed >= 1
    # A forger rewrites a signed event with a signature of its own making, hash and all.
    with tarfile.open(exported.path) as tar:
        files = {name: _read(tar, name) for name in MEMBERS}
    lines = files[EVENTS].splitlines()
    line = next(i for i, raw in enumerate(lines) if b'"signature":{"command"' in raw)
    event = json.loads(lines[line])
    event["signature"]["signature"] = base64.b64encode(
        Ed25519PrivateKey.generate().sign(b"anything")
    ).decode()
    body = {k: v for k, v in event.items() if k != "hash"}
    lines[line] = canonical_json({**body, "hash": hash_body(body)})
    files[EVENTS] = b"".join(raw + b"\n" for raw in lines)
    forged = tmp_path / "forged"
    forged.mkdir()
    for name, data in files.items():
        (forged / name).write_bytes(data)

    problem = verify_bundle(forged).problems[0]

    assert problem.event_id == event["event_id"], problem.describe()
    assert "does not verify" in problem.what or "not the event" in problem.what


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    stream = tar.extractfile(name)
    assert stream is not None
    return stream.read()


# --- victim privacy and erasure -----------------------------------------------------------------

CASE_FILE = """query($id: ID!) { case(id: $id) { caseId victimDataErasedAt erasureReason
  narrative { status text at } notes { noteId status text } } }"""


@pytest.fixture(scope="module")
def narrated(officer: Client) -> dict[str, Any]:
    _case(officer, ERASED)
    narrative = officer.mutate("recordNarrative", "RecordNarrativeInput",
                               {"caseId": ERASED, "text": ACCOUNT})  # fmt: skip
    note = officer.mutate("addCaseNote", "AddCaseNoteInput", {"caseId": ERASED, "text": NOTE})
    assert narrative["__typename"] == note["__typename"] == "Accepted", (narrative, note)
    return narrative


def test_text_is_sealed_at_the_edge_and_read_by_officers_only(
    narrated: dict[str, Any], officer: Client, gabon: Client, stack: EmbeddedStack
) -> None:
    [event] = narrated["events"]
    sealed = json.loads(event["payload"])["text"]

    assert sealed.startswith("enc:v1:")
    assert ACCOUNT not in json.dumps(narrated)
    as_officer = officer.post(CASE_FILE, {"id": ERASED})["data"]["case"]
    assert as_officer["narrative"]["status"] == "READABLE"
    assert as_officer["narrative"]["text"] == ACCOUNT
    assert as_officer["notes"] == [{"noteId": "N1", "status": "READABLE", "text": NOTE}]
    as_state = gabon.post(CASE_FILE, {"id": ERASED})["data"]["case"]
    assert (as_state["narrative"]["status"], as_state["narrative"]["text"]) == ("WITHHELD", None)
    assert as_state["notes"][0]["text"] is None
    # Gabon signs everything now, and may not record a narrative anyway (tests/unit).
    mine = gabon.mutate("recordNarrative", "RecordNarrativeInput", {"caseId": ERASED, "text": "x"})
    assert code(mine)[0] in {"SIGNATURE_REQUIRED", "FORBIDDEN_ROLE"}


def test_after_erasure_the_text_is_gone_everywhere_and_verify_is_green(
    narrated: dict[str, Any], officer: Client, stack: EmbeddedStack, tmp_path: Path
) -> None:
    erased = officer.mutate("eraseVictimData", "EraseVictimDataInput",
                            {"caseId": ERASED, "reason": "VICTIM_REQUEST"})  # fmt: skip
    assert erased["__typename"] == "Accepted", erased
    assert stack.engine is not None

    shown = officer.post(CASE_FILE, {"id": ERASED})["data"]["case"]
    assert shown["victimDataErasedAt"] is not None
    assert shown["erasureReason"] == "victim_request"
    assert shown["narrative"] == {"status": "ERASED", "text": None, "at": shown["narrative"]["at"]}
    assert shown["notes"] == [{"noteId": "N1", "status": "ERASED", "text": None}]
    with stack.engine.connect() as conn:
        row = conn.execute(select(case_keys).where(case_keys.c.case_id == ERASED)).one()
    assert row.material is None
    again = officer.mutate("addCaseNote", "AddCaseNoteInput", {"caseId": ERASED, "text": "more"})
    assert code(again) == ("VICTIM_DATA_ERASED", "caseId")
    # No copy ever held the text: the database, the data directory, the bundle.
    data_dir = stack.settings.data_dir
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert ACCOUNT.encode() not in path.read_bytes(), path
    key_path = default_key_path(stack.settings)
    publish_checkpoint(stack.engine, key_path, datetime.now(UTC),
                       partitions=stack.settings.topic_partitions)  # fmt: skip
    exported = export_bundle(stack.engine, tmp_path / "after-erasure.tar.gz", key_path)
    with tarfile.open(exported.path) as tar:
        assert not any(ACCOUNT.encode() in _read(tar, name) for name in MEMBERS)

    assert verify_bundle(exported.path).ok
    live = verify_live(stack.engine, stack.settings.kafka_bootstrap_servers,
                       stack.settings.topic_partitions)  # fmt: skip
    assert live.ok, live.render()
    assert httpx.get(f"{stack.url}/healthz", timeout=10).status_code == 200
