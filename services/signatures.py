"""Member States' signatures: checked by the API before a command is sent, made by states.

Once a Member State registered a signing key (``RegisterSigningKey``), every command
its principals submit must carry a signature, by one of its keys in force, over the
command's statement (``events/signing.py`` defines it). The API checks this against
the state's stream as the audit archive holds it, before anything reaches the log,
and answers a refusal as a rejection that names the rule:

- ``SIGNATURE_REQUIRED``: the state registered a key and the command is unsigned;
- ``UNKNOWN_SIGNING_KEY``: the key id is not one the actor's state registered (for
  instance another state's key);
- ``SIGNING_KEY_REVOKED``: the state revoked that key;
- ``INVALID_SIGNATURE``: the signature does not verify over this command (a changed
  payload, instant, command id or stream);
- ``SIGNATURE_NOT_EXPECTED``: only a Member State's principals sign.

The decider checks the same on the state's own stream (where the keys live), and
``accountability verify`` checks every signed event of the log again, offline.

The other half is for states: :func:`sign_document` signs a command file with a
private key, as ``accountability sign --key KEY.pem --command FILE`` does.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection

from accountability.events.codec import from_json_object, parse_instant
from accountability.events.commands import COMMAND_TYPES, CommandEnvelope, state_stream
from accountability.events.decider import fold
from accountability.events.envelope import decode_envelope
from accountability.events.errors import DecodeError, Rejection, RejectionDetail
from accountability.events.member_state import MemberStateRecord
from accountability.events.rules import ensure_signed
from accountability.events.signing import Signature, b64, command_statement, key_id_of
from accountability.events.vocabulary import Role

from . import archive

SIGNATURE_NOT_EXPECTED: Final = "SIGNATURE_NOT_EXPECTED"


class SigningError(Exception):
    """A private key or a command file that cannot be used to sign."""


def state_record(conn: Connection, member_state: str) -> MemberStateRecord:
    """A Member State's stream folded from the audit archive: its keys and commitments."""
    stream = state_stream(member_state)
    raws = archive.load_streams(conn, [stream]).get(stream, [])
    record = fold(stream, (decode_envelope(raw) for raw in raws))
    if not isinstance(record, MemberStateRecord):  # pragma: no cover - a state: stream
        raise TypeError(f"{stream} did not fold into a Member State record")
    return record


def submission_problem(conn: Connection, envelope: CommandEnvelope) -> RejectionDetail | None:
    """Why the API must not send ``envelope``, as far as signatures go; None when it may."""
    actor = envelope.actor
    if actor.role is not Role.MEMBER_STATE or actor.member_state is None:
        if envelope.signature is None:
            return None
        return RejectionDetail(
            SIGNATURE_NOT_EXPECTED,
            f"only a Member State's principals sign their submissions, not a {actor.role.value}",
            "signature",
        )
    record = state_record(conn, actor.member_state)
    try:
        ensure_signed(record, actor.member_state, envelope)
    except Rejection as rejection:
        return rejection.detail
    return None


# --- for Member States: signing ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signed:
    """A command file's signature, and the statement it is over."""

    signature: Signature
    statement: bytes

    def to_input(self) -> dict[str, str]:
        """The ``signature`` input of a GraphQL mutation."""
        return {"keyId": self.signature.key_id, "signature": b64(self.signature.value)}


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def statement_of_document(document: object) -> bytes:
    """The statement of a command given as ``{command_id, type, stream_id, occurred_at,
    payload}``, its payload completed with the defaults the API fills in."""
    if not isinstance(document, dict):
        raise SigningError("the command file must hold a JSON object")
    missing = {"command_id", "type", "stream_id", "occurred_at", "payload"} - set(document)
    if missing:
        raise SigningError(f"the command file has no {', '.join(sorted(missing))}")
    cls = COMMAND_TYPES.get(str(document["type"]))
    if cls is None:
        raise SigningError(f"unknown command type {document['type']!r}")
    payload = document["payload"]
    if not isinstance(payload, dict):
        raise SigningError("payload must be an object")
    try:
        command = from_json_object(cls, payload)
        occurred_at = parse_instant(str(document["occurred_at"]), "occurred_at")
    except DecodeError as exc:
        raise SigningError(str(exc)) from None
    if command.stream_id != document["stream_id"]:
        raise SigningError(
            f"stream_id {document['stream_id']!r} is not the command's stream {command.stream_id!r}"
        )
    return command_statement(str(document["command_id"]), command, command.stream_id, occurred_at)


def sign_document(private_key: Ed25519PrivateKey, document: object) -> Signed:
    signed = statement_of_document(document)
    public = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return Signed(Signature(key_id_of(public), private_key.sign(signed)), signed)


def sign_file(key_path: Path, command_path: Path) -> Signed:
    try:
        document = json.loads(command_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SigningError(f"{command_path} is not a readable JSON file: {exc}") from None
    return sign_document(load_private_key(key_path), document)


def statement_note(signed: Signed) -> str:
    """What was signed, for the signer to check: the statement and its SHA-256."""
    digest = hashlib.sha256(signed.statement).hexdigest()
    return f"signed statement (SHA-256 {digest}):\n{signed.statement.decode('utf-8')}"
