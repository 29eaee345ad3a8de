"""The envelope every event travels in, and the SHA-256 chain that links a stream.

``hash`` is SHA-256 over the canonical JSON of the envelope without ``hash``;
``prev_hash`` is the hash of the stream's previous event (64 zeros for the first),
so changing, dropping, reordering or inserting an event breaks the chain.

``signature`` is optional: present (and hashed) only on the events of a command a
Member State signed (``signing.py``), and left out altogether otherwise, so that
the bytes and hashes of every unsigned event are what they always were.
"""

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from .catalogue import EVENT_TYPES, Event
from .codec import (
    Upcaster,
    canonical_json,
    format_instant,
    from_json_object,
    loads_object,
    parse_instant,
    to_json_object,
    upcast,
)
from .commands import Actor, CommandEnvelope
from .errors import ChainBroken, DecodeError
from .signing import CommandSignature, command_signature_from_json
from .types import CommandId, CountryCode, EventId, Hash, JsonObject, JsonValue, StreamId
from .upcasters import UPCASTERS
from .vocabulary import Role

GENESIS_HASH: Final = Hash("0" * 64)

# Fixed namespace for event ids: uuid5(namespace, "<command id>/<position>") makes a
# retried command produce the very same ids.
_EVENT_ID_NAMESPACE: Final = uuid.UUID("9b0a5c1e-6f0d-5b7e-9a43-3f1f0d6c2a17")


@dataclass(frozen=True, slots=True)
class StreamHead:
    """Where a stream ends: the last sequence number and its hash."""

    sequence: int = 0
    hash: Hash = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: EventId
    type: str
    schema_version: int
    stream_id: StreamId
    sequence: int
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    command_id: CommandId
    correlation_id: str
    payload: Event
    prev_hash: Hash
    hash: Hash
    signature: CommandSignature | None = None

    @property
    def head(self) -> StreamHead:
        return StreamHead(self.sequence, self.hash)


def derive_event_id(command_id: str, position: int) -> EventId:
    return EventId(str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{command_id}/{position}")))


def actor_to_json(actor: Actor) -> JsonObject:
    return {
        "principal_id": actor.principal_id,
        "role": actor.role.value,
        "member_state": actor.member_state,
    }


def actor_from_json(data: object) -> Actor:
    if not isinstance(data, dict) or set(data) != {"principal_id", "role", "member_state"}:
        raise DecodeError("actor must be an object with principal_id, role and member_state")
    principal_id, role, member_state = data["principal_id"], data["role"], data["member_state"]
    if not isinstance(principal_id, str) or not principal_id:
        raise DecodeError("actor.principal_id must be a non-empty string", "actor")
    try:
        parsed_role = Role(role)
    except ValueError:
        raise DecodeError(f"unknown actor role {role!r}", "actor") from None
    if member_state is not None and not isinstance(member_state, str):
        raise DecodeError("actor.member_state must be a string or null", "actor")
    return Actor(principal_id, parsed_role, CountryCode(member_state) if member_state else None)


def _body(
    *,
    event_id: str,
    type_name: str,
    schema_version: int,
    stream_id: str,
    sequence: int,
    occurred_at: datetime,
    recorded_at: datetime,
    actor: Actor,
    command_id: str,
    correlation_id: str,
    payload: JsonObject,
    prev_hash: str,
    signature: CommandSignature | None = None,
) -> JsonObject:
    body: JsonObject = {
        "event_id": event_id,
        "type": type_name,
        "schema_version": schema_version,
        "stream_id": stream_id,
        "sequence": sequence,
        "occurred_at": format_instant(occurred_at),
        "recorded_at": format_instant(recorded_at),
        "actor": actor_to_json(actor),
        "command_id": command_id,
        "correlation_id": correlation_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    if signature is not None:
        body["signature"] = signature.to_json()
    return body


def hash_body(body: JsonObject) -> Hash:
    return Hash(hashlib.sha256(canonical_json(body)).hexdigest())


def seal(
    head: StreamHead,
    command: CommandEnvelope,
    events: Sequence[Event],
    recorded_at: datetime,
) -> list[tuple[Envelope, bytes]]:
    """Wrap decided events in envelopes that continue the stream's chain from ``head``.

    Returns each envelope with its canonical bytes, which are what the log stores.
    """
    sealed: list[tuple[Envelope, bytes]] = []
    signature = None
    if command.signature is not None:
        signature = CommandSignature(
            command.signature.key_id,
            command.signature.value,
            command.type,
            to_json_object(command.command),
        )
    for position, event in enumerate(events):
        event_id = derive_event_id(command.command_id, position)
        sequence = head.sequence + 1
        body = _body(
            event_id=event_id,
            type_name=type(event).__name__,
            schema_version=event.schema_version,
            stream_id=command.stream_id,
            sequence=sequence,
            occurred_at=command.occurred_at,
            recorded_at=recorded_at,
            actor=command.actor,
            command_id=command.command_id,
            correlation_id=command.correlation_id,
            payload=to_json_object(event),
            prev_hash=head.hash,
            signature=signature,
        )
        digest = hash_body(body)
        body["hash"] = digest
        envelope = Envelope(
            event_id=event_id,
            type=type(event).__name__,
            schema_version=event.schema_version,
            stream_id=command.stream_id,
            sequence=sequence,
            occurred_at=command.occurred_at,
            recorded_at=recorded_at,
            actor=command.actor,
            command_id=command.command_id,
            correlation_id=command.correlation_id,
            payload=event,
            prev_hash=head.hash,
            hash=digest,
            signature=signature,
        )
        sealed.append((envelope, canonical_json(body)))
        head = envelope.head
    return sealed


def _field(data: JsonObject, key: str) -> JsonValue:
    if key not in data:
        raise DecodeError(f"envelope has no '{key}'", key)
    return data[key]


def _str(data: JsonObject, key: str) -> str:
    value = _field(data, key)
    if not isinstance(value, str):
        raise DecodeError(f"envelope field '{key}' must be a string", key)
    return value


def _int(data: JsonObject, key: str) -> int:
    value = _field(data, key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError(f"envelope field '{key}' must be an integer", key)
    return value


def _object(data: JsonObject, key: str) -> JsonObject:
    value = _field(data, key)
    if not isinstance(value, dict):
        raise DecodeError(f"envelope field '{key}' must be an object", key)
    return value


def decode_envelope(
    raw: bytes | str, upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS
) -> Envelope:
    """Decode canonical bytes into an envelope whose payload is at the current version."""
    data = loads_object(raw, "envelope")
    return envelope_from_json(data, upcasters)


def envelope_from_json(
    data: JsonObject, upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS
) -> Envelope:
    expected = {
        "event_id", "type", "schema_version", "stream_id", "sequence", "occurred_at",
        "recorded_at", "actor", "command_id", "correlation_id", "payload", "prev_hash", "hash",
    }  # fmt: skip
    unknown = set(data) - expected - {"signature"}
    if unknown:
        raise DecodeError(f"unknown envelope field(s): {', '.join(sorted(unknown))}")
    type_name = _str(data, "type")
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise DecodeError(f"unknown event type '{type_name}'", "type")
    version = _int(data, "schema_version")
    current = upcast(type_name, version, _object(data, "payload"), cls.schema_version, upcasters)
    return Envelope(
        event_id=EventId(_str(data, "event_id")),
        type=type_name,
        schema_version=version,
        stream_id=StreamId(_str(data, "stream_id")),
        sequence=_int(data, "sequence"),
        occurred_at=parse_instant(_str(data, "occurred_at"), "occurred_at"),
        recorded_at=parse_instant(_str(data, "recorded_at"), "recorded_at"),
        actor=actor_from_json(_field(data, "actor")),
        command_id=CommandId(_str(data, "command_id")),
        correlation_id=_str(data, "correlation_id"),
        payload=from_json_object(cls, current),
        prev_hash=Hash(_str(data, "prev_hash")),
        hash=Hash(_str(data, "hash")),
        signature=command_signature_from_json(data["signature"]) if "signature" in data else None,
    )


def decode_and_hash(
    raw: bytes | str, upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS
) -> tuple[Envelope, Hash]:
    """Decode ``raw`` and recompute its hash from the same parse: (envelope, recomputed).

    Stored bytes are canonical, so their hash is checked by cutting the ``hash`` member
    out of them; only bytes that fail that are re-encoded, which tells a content change
    from mere formatting.
    """
    data = loads_object(raw, "envelope")
    claimed = data.get("hash")
    stored = raw.encode() if isinstance(raw, str) else raw
    if isinstance(claimed, str) and hash_without_member(stored, claimed) == claimed:
        recomputed = Hash(claimed)
    else:
        recomputed = hash_body({k: v for k, v in data.items() if k != "hash"})
    return envelope_from_json(data, upcasters), recomputed


def hash_without_member(raw: bytes, claimed: str) -> str | None:
    """SHA-256 (hex) of an envelope's stored bytes with its ``"hash":"<claimed>"`` cut out.

    Canonical JSON sorts keys and puts no space anywhere, so an envelope's bytes are
    ``…"event_id":"…","hash":"<hex>","occurred_at":…``: cutting that member (with
    its comma) leaves exactly the canonical encoding of the envelope without its hash,
    which is what was hashed (:func:`hash_body`). None when the member is not there.
    Inside a JSON string a quote is escaped, so the member cannot be mistaken for text.
    """
    marker = b',"hash":"' + claimed.encode() + b'"'
    cut = raw.find(marker)
    if cut < 0:
        return None
    whole = memoryview(raw)  # the two parts are hashed in place, not copied
    digest = hashlib.sha256(whole[:cut])
    digest.update(whole[cut + len(marker) :])
    return digest.hexdigest()


def stored_hash_of(raw: bytes | str) -> tuple[Hash, Hash]:
    """Recompute an envelope's hash from its stored bytes: (claimed, recomputed)."""
    data = loads_object(raw, "envelope")
    claimed = data.pop("hash", None)
    if not isinstance(claimed, str):
        raise DecodeError("envelope has no 'hash'", "hash")
    return Hash(claimed), hash_body(data)


def verify_link(raw: bytes | str, previous: StreamHead, stream_id: str | None = None) -> Envelope:
    """Decode ``raw`` and check that it hashes to itself and follows ``previous``.

    The hash covers the canonical encoding of the envelope's values, so the check
    holds for any byte-level formatting of the same values. ``stream_id``, when
    given, is the stream the event is expected in.
    """
    data = loads_object(raw, "envelope")
    where = f"{data.get('stream_id')} #{data.get('sequence')} ({data.get('event_id')})"
    claimed = data.pop("hash", None)
    recomputed = hash_body(data)
    if claimed != recomputed:
        raise ChainBroken(f"{where}: stored hash {str(claimed)[:12]}… but content hashes to "
                          f"{recomputed[:12]}…")  # fmt: skip
    data["hash"] = claimed
    try:
        envelope = envelope_from_json(data)
    except DecodeError as exc:
        raise ChainBroken(f"{where}: {exc}") from exc
    if stream_id is not None and envelope.stream_id != stream_id:
        raise ChainBroken(f"{where}: expected in stream {stream_id}")
    if envelope.sequence != previous.sequence + 1:
        raise ChainBroken(f"{where}: expected sequence {previous.sequence + 1}")
    if envelope.prev_hash != previous.hash:
        raise ChainBroken(f"{where}: prev_hash is not the hash of #{previous.sequence}")
    return envelope


def encode_envelope(envelope: Envelope) -> bytes:
    """Canonical bytes of an envelope built by this code (payload at its own version)."""
    body = _body(
        event_id=envelope.event_id,
        type_name=envelope.type,
        schema_version=envelope.schema_version,
        stream_id=envelope.stream_id,
        sequence=envelope.sequence,
        occurred_at=envelope.occurred_at,
        recorded_at=envelope.recorded_at,
        actor=envelope.actor,
        command_id=envelope.command_id,
        correlation_id=envelope.correlation_id,
        payload=to_json_object(envelope.payload),
        prev_hash=envelope.prev_hash,
        signature=envelope.signature,
    )
    body["hash"] = envelope.hash
    return canonical_json(body)
