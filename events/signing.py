"""Member States' signatures over their submissions (Ed25519), and what they sign.

A Member State registers a public key on its own stream (``SigningKeyRegistered``);
from then on its principals sign every command they submit. The signature is over
the **statement** of the command, canonical JSON (sorted keys, UTF-8, no
whitespace) of exactly these members::

    {"command_id": "<as submitted>",
     "format": "sea-accountability/command-signature/v1",
     "occurred_at": "<YYYY-MM-DDTHH:MM:SS.ffffffZ, in UTC>",
     "payload": {<the command's payload: every field, defaults included>},
     "stream_id": "case:<case id>" or "state:<ISO3>",
     "type": "<command type, e.g. ReplyIntentToInvestigate>"}

so that anyone can compute it again from the command, and from every event the
command produced: an event's envelope carries ``signature`` with the key id, the
signature and the command's type and payload, and takes ``command_id``,
``stream_id`` and ``occurred_at`` from the envelope itself. A key id is the first
16 hex digits of SHA-256 over the raw 32-byte public key; signatures and keys are
standard base64.

Pure: verification is arithmetic on values (``cryptography`` does no I/O here).
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .codec import canonical_json, format_instant, to_json_object
from .errors import DecodeError
from .types import JsonObject, JsonValue

STATEMENT_FORMAT: Final = "sea-accountability/command-signature/v1"
PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64


class KeyFormatError(ValueError):
    """A public key that is neither 32 raw bytes in base64 nor an Ed25519 PEM."""


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature as a command carries it: the key that made it and its 64 bytes."""

    key_id: str
    value: bytes

    def to_json(self) -> JsonObject:
        return {"key_id": self.key_id, "signature": b64(self.value)}


@dataclass(frozen=True, slots=True)
class CommandSignature:
    """A signature as an event carries it: with the type and payload of the signed command.

    The event's own payload is what the decider made of the command; the command's
    is what was signed, so it travels beside it for anyone to check.
    """

    key_id: str
    value: bytes
    command_type: str
    command_payload: JsonObject

    @property
    def signature(self) -> Signature:
        return Signature(self.key_id, self.value)

    def to_json(self) -> JsonObject:
        return {
            **self.signature.to_json(),
            "command": {"type": self.command_type, "payload": self.command_payload},
        }


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A key a Member State registered, and when (if ever) it revoked it."""

    key_id: str
    public_key: bytes
    registered_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def from_b64(text: str, what: str, size: int | None = None) -> bytes:
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"{what} is not standard base64") from None
    if size is not None and len(data) != size:
        raise ValueError(f"{what} must be {size} bytes, not {len(data)}")
    return data


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def parse_public_key(text: str) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given in base64 or as a PEM."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(stripped.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError) as exc:
            raise KeyFormatError(f"the PEM is not a public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError(f"the PEM holds a {type(key).__name__}, not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = from_b64(stripped, "the public key", PUBLIC_KEY_BYTES)
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise KeyFormatError(f"{exc} (or give an Ed25519 PEM)") from None
    return raw


def statement(
    command_id: str, type_name: str, stream_id: str, occurred_at: str, payload: JsonValue
) -> bytes:
    """The bytes a Member State signs for a command (``occurred_at`` already formatted)."""
    return canonical_json(
        {
            "command_id": command_id,
            "format": STATEMENT_FORMAT,
            "occurred_at": occurred_at,
            "payload": payload,
            "stream_id": stream_id,
            "type": type_name,
        }
    )


def command_statement(
    command_id: str, command: object, stream_id: str, occurred_at: datetime
) -> bytes:
    """The statement of a command dataclass (see the module docstring)."""
    return statement(
        command_id,
        type(command).__name__,
        stream_id,
        format_instant(occurred_at),
        to_json_object(command),
    )


def signature_verifies(public_key: bytes, value: bytes, signed: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(value, signed)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_from_json(data: object, field: str = "signature") -> Signature:
    """A command's signature: exactly ``{"key_id": …, "signature": "<base64>"}``."""
    if not isinstance(data, dict) or set(data) != {"key_id", "signature"}:
        raise DecodeError(f"{field} must be an object with key_id and signature", field)
    return _signature(data, field)


def _signature(data: Mapping[str, JsonValue], field: str) -> Signature:
    key_id, value = data["key_id"], data["signature"]
    if not isinstance(key_id, str) or not isinstance(value, str):
        raise DecodeError(f"{field}.key_id and {field}.signature must be strings", field)
    try:
        return Signature(key_id, from_b64(value, f"{field}.signature", SIGNATURE_BYTES))
    except ValueError as exc:
        raise DecodeError(str(exc), field) from None


def command_signature_from_json(data: object) -> CommandSignature:
    if not isinstance(data, dict) or set(data) != {"key_id", "signature", "command"}:
        raise DecodeError("signature must be an object with key_id, signature and command")
    signature = _signature(data, "signature")
    command = data["command"]
    if (
        not isinstance(command, dict)
        or set(command) != {"type", "payload"}
        or not isinstance(command["type"], str)
        or not isinstance(command["payload"], dict)
    ):
        raise DecodeError("signature.command must be an object with a type and a payload")
    return CommandSignature(signature.key_id, signature.value, command["type"], command["payload"])


def event_statement(
    command_id: str, stream_id: str, occurred_at: str, signature: Mapping[str, JsonValue]
) -> bytes:
    """The statement an event's ``signature`` stands for, from the envelope's JSON values."""
    command = signature.get("command")
    if not isinstance(command, dict):
        raise DecodeError("signature.command must be an object")
    type_name = command.get("type")
    if not isinstance(type_name, str):
        raise DecodeError("signature.command.type must be a string")
    return statement(command_id, type_name, stream_id, occurred_at, command.get("payload"))


# --- what a signed command may have produced ------------------------------------------

YIELDS: Final[Mapping[str, frozenset[str]]] = {
    command: frozenset({event})
    for command, event in (
        ("ReportAllegation", "AllegationReported"),
        ("IdentifyAllegedPerpetrator", "AllegedPerpetratorIdentified"),
        ("RecordVictim", "VictimRecorded"),
        ("NotifyMemberState", "MemberStateNotified"),
        ("ReplyIntentToInvestigate", "MemberStateRepliedIntentToInvestigate"),
        ("DeclineToInvestigate", "MemberStateDeclinedToInvestigate"),
        ("AppointNationalInvestigationOfficer", "NationalInvestigationOfficerAppointed"),
        ("OpenInvestigation", "InvestigationOpened"),
        ("ConcludeInvestigation", "InvestigationConcluded"),
        ("TakeInterimAction", "InterimActionTaken"),
        ("RepatriatePersonnel", "PersonnelRepatriated"),
        ("ImposeSanction", "SanctionImposed"),
        ("MakeCriminalReferral", "CriminalReferralMade"),
        ("ConcludeProsecution", "ProsecutionConcluded"),
        ("RequestFollowUp", "FollowUpRequested"),
        ("PublishCase", "CasePublished"),
        ("CloseCase", "CaseClosed"),
        ("ReopenCase", "CaseReopened"),
        ("FilePaternityClaim", "PaternityClaimFiled"),
        ("EstablishPaternity", "PaternityEstablished"),
        ("ArrangeChildSupport", "ChildSupportArranged"),
        ("ProvideVictimAssistance", "VictimAssistanceProvided"),
        ("RecordNarrative", "NarrativeRecorded"),
        ("AddCaseNote", "CaseNoteAdded"),
        ("EraseVictimData", "VictimDataErased"),
        ("SignVoluntaryCompact", "VoluntaryCompactSigned"),
        ("JoinCircleOfLeadership", "CircleOfLeadershipJoined"),
        ("ContributeToTrustFund", "TrustFundContributionMade"),
        ("DesignateFocalPoint", "FocalPointDesignated"),
        ("RegisterSigningKey", "SigningKeyRegistered"),
        ("RevokeSigningKey", "SigningKeyRevoked"),
        ("CorrectEvent", "EventCorrected"),
        ("RetractEvent", "EventRetracted"),
    )
}
"""The event type each command type is decided into."""


def mismatch(
    command_type: str,
    command_payload: Mapping[str, JsonValue],
    event_type: str,
    event_payload: Mapping[str, JsonValue],
) -> str | None:
    """Why an event is not what the signed command asked for; None when it is.

    The event must be of the type the command is decided into, and every field the
    two share must agree wherever the command gave a value (the decider fills in what
    a command leaves out, such as a new perpetrator's id).
    """
    allowed = YIELDS.get(command_type)
    if allowed is None:
        return f"the signed command's type {command_type!r} is unknown"
    if event_type not in allowed:
        return f"a {event_type} is not what the signed {command_type} is decided into"
    for name, wanted in sorted(command_payload.items()):
        if wanted is None or name not in event_payload:
            continue
        if not _agrees(name, wanted, event_payload[name]):
            return f"its {name} is not the one the signed {command_type} gave"
    return None


def _agrees(name: str, wanted: JsonValue, found: JsonValue) -> bool:
    if wanted == found:
        return True
    if name == "corrected_payload" and isinstance(wanted, str) and isinstance(found, str):
        # The decider writes the corrected payload whole; the command may leave defaults out.
        try:
            given, written = json.loads(wanted), json.loads(found)
        except ValueError:
            return False
        return (
            isinstance(given, dict)
            and isinstance(written, dict)
            and all(written.get(k) == v for k, v in given.items())
        )
    if name == "public_key" and isinstance(wanted, str) and isinstance(found, str):
        try:
            return parse_public_key(wanted) == parse_public_key(found)
        except KeyFormatError:
            return False
    return False
