"""Member States' signatures: the statement, the rules on a state's stream, the signing
helper, and ``verify`` naming every event whose signature a state could deny.

The API's refusals over HTTP are in tests/e2e/test_signed_submissions.py.
"""

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from support.domain import OFFICER, T0, Log, command, state_actor

from accountability.events import commands as c
from accountability.events.catalogue import (
    EVENT_TYPES,
    Event,
    MemberStateDeclinedToInvestigate,
    MemberStateRepliedIntentToInvestigate,
    SigningKeyRegistered,
    SigningKeyRevoked,
)
from accountability.events.commands import COMMAND_TYPES, Actor, CommandEnvelope
from accountability.events.decider import StreamState, decide, evolve
from accountability.events.envelope import Envelope, seal
from accountability.events.errors import Rejection
from accountability.events.member_state import MemberStateRecord
from accountability.events.rules import Rule
from accountability.events.signing import (
    STATEMENT_FORMAT,
    YIELDS,
    Signature,
    b64,
    key_id_of,
    mismatch,
    parse_public_key,
    signature_verifies,
)
from accountability.events.types import CaseId, CommandId, CountryCode
from accountability.events.vocabulary import SanctionKind
from accountability.services import bundle, cli
from accountability.services.signatures import (
    SigningError,
    sign_document,
    statement_of_document,
)
from accountability.services.verify import VerifyReport, verify_bundle

GAB, NPL = CountryCode("GAB"), CountryCode("NPL")
GABON, NEPAL = state_actor("GAB"), state_actor("NPL")
GAB_KEY = Ed25519PrivateKey.from_private_bytes(b"\x11" * 32)
GAB_NEXT_KEY = Ed25519PrivateKey.from_private_bytes(b"\x12" * 32)
NPL_KEY = Ed25519PrivateKey.from_private_bytes(b"\x21" * 32)
NOW = datetime.now(UTC)
CASE = CaseId("S-1")


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def signed(envelope: CommandEnvelope, key: Ed25519PrivateKey) -> CommandEnvelope:
    return replace(
        envelope, signature=Signature(key_id_of(raw(key)), key.sign(envelope.statement()))
    )


def submit(
    log: Log,
    cmd: c.Command,
    actor: Actor,
    key: Ed25519PrivateKey | None = None,
    *,
    days: float = 0,
) -> list[Envelope]:
    envelope = command(cmd, actor=actor, at=T0 + timedelta(days=days))
    return log.submit(signed(envelope, key) if key is not None else envelope)


# --- the statement -----------------------------------------------------------------------


def test_the_statement_is_canonical_json_of_exactly_what_the_readme_says() -> None:
    envelope = CommandEnvelope(
        CommandId("cmd-1"), "corr", GABON, T0, datetime(2024, 3, 5, 10, 30, tzinfo=UTC),
        c.ReplyIntentToInvestigate(CASE, GAB),
    )  # fmt: skip

    assert envelope.statement() == (
        b'{"command_id":"cmd-1","format":"' + STATEMENT_FORMAT.encode() + b'",'
        b'"occurred_at":"2024-03-05T10:30:00.000000Z",'
        b'"payload":{"case_id":"S-1","member_state":"GAB"},'
        b'"stream_id":"case:S-1","type":"ReplyIntentToInvestigate"}'
    )


def test_a_key_is_named_by_sha256_of_its_raw_bytes_and_read_from_base64_or_pem() -> None:
    assert key_id_of(raw(GAB_KEY)) == hashlib.sha256(raw(GAB_KEY)).hexdigest()[:16]
    assert parse_public_key(pem(GAB_KEY)) == parse_public_key(b64(raw(GAB_KEY))) == raw(GAB_KEY)


# --- the rules on a state's stream, given-when-then ---------------------------------------


def state_of(log: Log, code: str = "GAB") -> MemberStateRecord:
    record = log.states[f"state:{code}"]
    assert isinstance(record, MemberStateRecord)
    return record


def when(state: StreamState, cmd: c.Command, actor: Actor, key: Ed25519PrivateKey | None = None):
    envelope = command(cmd, actor=actor, at=T0 + timedelta(days=30))
    return decide(state, signed(envelope, key) if key else envelope, NOW)


def rejected(code: Rule, field: str | None, state: StreamState, *args: object) -> str:
    with pytest.raises(Rejection) as refused:
        when(state, *args)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.field) == (code, field), refused.value.message
    return refused.value.message


def test_a_state_registers_its_first_key_unsigned_and_signs_everything_after() -> None:
    log = Log()
    [registered] = submit(log, c.RegisterSigningKey(GAB, pem(GAB_KEY)), GABON)

    assert registered.payload == SigningKeyRegistered(
        GAB, key_id_of(raw(GAB_KEY)), b64(raw(GAB_KEY))
    )
    state = state_of(log)
    assert state.signing_required
    message = rejected(
        Rule.SIGNATURE_REQUIRED, "signature", state, c.SignVoluntaryCompact(GAB), GABON
    )
    assert key_id_of(raw(GAB_KEY)) in message
    assert when(state, c.SignVoluntaryCompact(GAB), GABON, GAB_KEY)
    # An officer records for the state unsigned: the envelope says who recorded it.
    assert when(state, c.SignVoluntaryCompact(GAB), OFFICER)


def test_a_new_key_is_registered_under_a_key_in_force_and_the_old_one_revoked_under_either() -> (
    None
):
    log = Log()
    submit(log, c.RegisterSigningKey(GAB, b64(raw(GAB_KEY))), GABON)
    state = state_of(log)

    rejected(Rule.SIGNATURE_REQUIRED, "signature", state,
             c.RegisterSigningKey(GAB, b64(raw(GAB_NEXT_KEY))), GABON)  # fmt: skip
    rejected(Rule.UNKNOWN_SIGNING_KEY, "signature", state,
             c.RegisterSigningKey(GAB, b64(raw(GAB_NEXT_KEY))), GABON, GAB_NEXT_KEY)  # fmt: skip
    submit(log, c.RegisterSigningKey(GAB, b64(raw(GAB_NEXT_KEY))), GABON, GAB_KEY, days=1)
    [revoked] = submit(
        log, c.RevokeSigningKey(GAB, key_id_of(raw(GAB_KEY))), GABON, GAB_KEY, days=2
    )

    assert revoked.payload == SigningKeyRevoked(GAB, key_id_of(raw(GAB_KEY)))
    state = state_of(log)
    assert set(state.active_keys) == {key_id_of(raw(GAB_NEXT_KEY))}
    rejected(
        Rule.SIGNING_KEY_REVOKED, "signature", state, c.SignVoluntaryCompact(GAB), GABON, GAB_KEY
    )
    assert when(state, c.SignVoluntaryCompact(GAB), GABON, GAB_NEXT_KEY)


def test_a_state_that_revoked_every_key_registers_a_new_one_before_anything_else() -> None:
    log = Log()
    submit(log, c.RegisterSigningKey(GAB, b64(raw(GAB_KEY))), GABON)
    submit(log, c.RevokeSigningKey(GAB, key_id_of(raw(GAB_KEY))), GABON, GAB_KEY, days=1)
    state = state_of(log)

    message = rejected(
        Rule.SIGNATURE_REQUIRED, "signature", state, c.SignVoluntaryCompact(GAB), GABON
    )
    assert "revoked every key" in message
    assert when(state, c.RegisterSigningKey(GAB, b64(raw(GAB_NEXT_KEY))), GABON)
    rejected(Rule.SIGNING_KEY_ALREADY_REGISTERED, "public_key", state,
             c.RegisterSigningKey(GAB, b64(raw(GAB_KEY))), GABON)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param(lambda e: replace(e, command=c.ContributeToTrustFund(GAB, 1)),
                     Rule.INVALID_SIGNATURE, id="altered-payload"),
        pytest.param(lambda e: replace(e, occurred_at=e.occurred_at - timedelta(days=1)),
                     Rule.INVALID_SIGNATURE, id="altered-instant"),
        pytest.param(lambda e: replace(e, command_id=CommandId("another")),
                     Rule.INVALID_SIGNATURE, id="another-command-id"),
        pytest.param(lambda e: signed(e, NPL_KEY), Rule.UNKNOWN_SIGNING_KEY,
                     id="another-states-key"),
    ],
)  # fmt: skip
def test_a_signature_holds_only_for_the_command_it_was_made_for(change, code: Rule) -> None:
    log = Log()
    submit(log, c.RegisterSigningKey(GAB, b64(raw(GAB_KEY))), GABON)
    submit(log, c.RegisterSigningKey(NPL, b64(raw(NPL_KEY))), NEPAL)
    good = signed(command(c.ContributeToTrustFund(GAB, 250_000), actor=GABON, at=T0), GAB_KEY)

    assert decide(state_of(log), good, NOW)
    with pytest.raises(Rejection) as refused:
        decide(state_of(log), change(good), NOW)
    assert (refused.value.code, refused.value.field) == (code, "signature")


# --- signing, for states --------------------------------------------------------------------

DOCUMENT = {
    "command_id": "b5c1f0de-0000-4000-8000-000000000001",
    "type": "ImposeSanction",
    "stream_id": "case:S-1",
    "occurred_at": "2024-03-05T12:30:00+02:00",
    "payload": {"case_id": "S-1", "perpetrator_id": "P1", "kind": "dismissal"},
}


def test_a_command_file_is_signed_as_the_api_will_state_it() -> None:
    envelope = CommandEnvelope(
        CommandId(str(DOCUMENT["command_id"])), "corr", GABON, T0,
        datetime(2024, 3, 5, 10, 30, tzinfo=UTC),
        c.ImposeSanction(CASE, "P1", SanctionKind.DISMISSAL),
    )  # fmt: skip

    made = sign_document(GAB_KEY, DOCUMENT)

    assert made.statement == statement_of_document(DOCUMENT) == envelope.statement()
    assert made.signature.key_id == key_id_of(raw(GAB_KEY))
    assert signature_verifies(raw(GAB_KEY), made.signature.value, envelope.statement())


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        pytest.param({**DOCUMENT, "type": "Sanction"}, "unknown command type", id="type"),
        pytest.param({**DOCUMENT, "stream_id": "case:S-2"}, "not the command's stream",
                     id="stream"),
        pytest.param({k: v for k, v in DOCUMENT.items() if k != "command_id"}, "no command_id",
                     id="command-id"),
        pytest.param({**DOCUMENT, "occurred_at": "2024-03-05T12:30:00"}, "no time zone",
                     id="naive-instant"),
        pytest.param({**DOCUMENT, "payload": {"case_id": "S-1"}}, "missing field",
                     id="incomplete-payload"),
    ],
)  # fmt: skip
def test_a_command_file_that_the_api_would_not_take_is_not_signed(document, reason: str) -> None:
    with pytest.raises(SigningError, match=reason):
        sign_document(GAB_KEY, document)


def test_the_sign_command_prints_the_mutation_input(tmp_path: Path, capsys) -> None:
    key_file = tmp_path / "gab.pem"
    key_file.write_bytes(
        GAB_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    command_file = tmp_path / "command.json"
    command_file.write_text(json.dumps(DOCUMENT))

    assert cli.main(["sign", "--key", str(key_file), "--command", str(command_file)]) == 0
    out, err = capsys.readouterr()
    printed = json.loads(out)

    assert printed["keyId"] == key_id_of(raw(GAB_KEY))
    assert signature_verifies(
        raw(GAB_KEY), base64.b64decode(printed["signature"]),
        statement_of_document(DOCUMENT),
    )  # fmt: skip
    assert "signed statement" in err
    assert cli.main(["sign", "--key", str(command_file), "--command", str(command_file)]) == 1


# --- what a signed command may yield ------------------------------------------------------


def test_every_command_yields_known_events() -> None:
    assert set(YIELDS) == set(COMMAND_TYPES)
    assert set().union(*YIELDS.values()) <= set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("event_type", "event_payload", "problem"),
    [
        pytest.param("MemberStateRepliedIntentToInvestigate", {"member_state": "GAB"}, None,
                     id="as-signed"),
        pytest.param("MemberStateDeclinedToInvestigate", {"member_state": "GAB"},
                     "not what the signed", id="another-type"),
        pytest.param("MemberStateRepliedIntentToInvestigate", {"member_state": "NPL"},
                     "member_state", id="another-state"),
    ],
)  # fmt: skip
def test_an_event_is_what_its_signed_command_asked_for(event_type, event_payload, problem) -> None:
    found = mismatch(
        "ReplyIntentToInvestigate", {"case_id": "S-1", "member_state": "GAB"}, event_type,
        event_payload,
    )  # fmt: skip
    assert (found is None) if problem is None else (found is not None and problem in found)


# --- verify names what a state could deny ---------------------------------------------------


APPOINT = c.AppointNationalInvestigationOfficer(CASE, GAB)


def signed_case_log() -> Log:
    """Gabon registers a key; its reply on a case of its national is signed. Each event
    is recorded five minutes after it occurred, so that "before" is told by the clock."""
    log = Log(recorded_when_occurred=True)
    log.case("S-1", "GAB", reply_after=None)
    submit(log, c.RegisterSigningKey(GAB, b64(raw(GAB_KEY))), GABON, days=3)
    submit(log, c.ReplyIntentToInvestigate(CASE, GAB), GABON, GAB_KEY, days=4)
    return log


def write_bundle(log: Log, directory: Path) -> Path:
    """An unpacked bundle without checkpoints: chains and signatures only."""
    directory.mkdir(parents=True)
    records = sorted(log.records)
    (directory / bundle.MANIFEST).write_text(
        json.dumps({"format": bundle.FORMAT, "format_version": bundle.FORMAT_VERSION})
    )
    (directory / bundle.PUBLIC_KEY).write_text(pem(GAB_KEY))
    (directory / bundle.CHECKPOINTS).write_text('{"checkpoints": []}')
    (directory / bundle.POSITIONS).write_bytes(b"".join(b"[%d,%d,null]\n" % r[:2] for r in records))
    (directory / bundle.EVENTS).write_bytes(b"".join(r[2] + b"\n" for r in records))
    return directory


def first_problem(report: VerifyReport):
    assert not report.ok, "the bundle verified"
    return report.problems[0]


def test_a_signed_submission_verifies_offline(tmp_path: Path) -> None:
    log = signed_case_log()

    report = verify_bundle(write_bundle(log, tmp_path / "b"))

    assert report.ok, report.render()
    assert report.signed == 1
    assert "signed by Member States verify" in report.render()
    reply = log.envelopes[-1]
    assert reply.signature is not None
    assert reply.signature.command_type == "ReplyIntentToInvestigate"


def _force(log: Log, envelope: CommandEnvelope, events: list[Event]) -> None:
    """Record ``events`` for ``envelope`` without the decider: what a forger could write."""
    state = log.states.get(envelope.stream_id)
    assert state is not None
    for sealed, raw_bytes in seal(state.head, envelope, events, log.now):
        partition = next(p for p, _, r in log.records if b'"stream_id":"case:S-1"' in r)
        offset = sum(1 for p, _, _ in log.records if p == partition)
        log.records.append((partition, offset, raw_bytes))
        log.envelopes.append(sealed)
        state = evolve(state, sealed)
    log.states[envelope.stream_id] = state


def _reply(key: Ed25519PrivateKey, *, actor: Actor = GABON, days: float = 5) -> CommandEnvelope:
    return signed(
        command(c.ReplyIntentToInvestigate(CASE, GAB), actor=actor, at=T0 + timedelta(days=days)),
        key,
    )


@pytest.mark.parametrize(
    ("forge", "what"),
    [
        pytest.param(
            lambda log: _force(log, replace(_reply(GAB_KEY), signature=Signature(
                key_id_of(raw(GAB_KEY)), b"\x00" * 64)),
                [MemberStateRepliedIntentToInvestigate(GAB)]),
            "does not verify", id="forged-signature"),
        pytest.param(
            lambda log: _force(log, _reply(GAB_KEY), [MemberStateDeclinedToInvestigate(GAB)]),
            "not what the signed", id="signed-reply-recorded-as-a-decline"),
        pytest.param(
            lambda log: (submit(log, c.RegisterSigningKey(NPL, b64(raw(NPL_KEY))), NEPAL),
                         submit(log, APPOINT, GABON, NPL_KEY, days=5)),
            "which GAB had not registered", id="another-states-key"),
        pytest.param(
            lambda log: (submit(log, c.RevokeSigningKey(GAB, key_id_of(raw(GAB_KEY))), GABON,
                                GAB_KEY, days=4.5),
                         submit(log, APPOINT, GABON, GAB_KEY, days=5)),
            "which GAB had revoked", id="revoked-key"),
        pytest.param(
            lambda log: submit(log, APPOINT, GABON, GAB_NEXT_KEY,
                               days=5),
            "had not registered", id="unregistered-key"),
    ],
)  # fmt: skip
def test_verify_names_the_event_whose_signature_a_state_could_deny(
    forge, what: str, tmp_path: Path
) -> None:
    log = signed_case_log()
    forge(log)
    culprit = log.envelopes[-1]

    problem = first_problem(verify_bundle(write_bundle(log, tmp_path / "b")))

    assert (problem.stream_id, problem.sequence, problem.event_id) == (
        culprit.stream_id, culprit.sequence, culprit.event_id,
    ), problem.describe()  # fmt: skip
    assert what in problem.what


def test_a_key_registered_under_another_id_is_named(tmp_path: Path) -> None:
    log = signed_case_log()
    registered = next(e for e in log.envelopes if isinstance(e.payload, SigningKeyRegistered))
    assert isinstance(registered.payload, SigningKeyRegistered)
    lying = replace(registered.payload, key_id="0" * 16)
    state = log.states["state:GAB"]
    envelope = command(c.RegisterSigningKey(GAB, b64(raw(GAB_NEXT_KEY))), actor=GABON,
                       at=T0 + timedelta(days=6))  # fmt: skip
    for sealed, raw_bytes in seal(state.head, signed(envelope, GAB_KEY), [lying], log.now):
        partition = next(p for p, _, r in log.records if b'"stream_id":"state:GAB"' in r)
        log.records.append((partition, sum(1 for p, *_ in log.records if p == partition),
                            raw_bytes))  # fmt: skip
        culprit = sealed

    problem = first_problem(verify_bundle(write_bundle(log, tmp_path / "b")))

    assert problem.event_id == culprit.event_id
    assert "but its public key is" in problem.what
