"""Commands and command results as canonical JSON on the command and result topics."""

from dataclasses import dataclass, field
from typing import Literal

from .codec import (
    canonical_json,
    format_instant,
    from_json_object,
    loads_object,
    parse_instant,
    to_json_object,
)
from .commands import CASE_STREAM_PREFIX, COMMAND_TYPES, STATE_STREAM_PREFIX, CommandEnvelope
from .envelope import actor_from_json, actor_to_json
from .errors import DecodeError, RejectionDetail
from .signing import signature_from_json
from .types import CommandId, JsonObject, JsonValue, StreamId

ResultStatus = Literal["accepted", "rejected"]


def command_to_json(envelope: CommandEnvelope) -> JsonObject:
    """A command as JSON; ``signature`` only when a Member State signed it."""
    data: JsonObject = {
        "command_id": envelope.command_id,
        "correlation_id": envelope.correlation_id,
        "type": envelope.type,
        "schema_version": envelope.schema_version,
        "stream_id": envelope.stream_id,
        "actor": actor_to_json(envelope.actor),
        "issued_at": format_instant(envelope.issued_at),
        "occurred_at": format_instant(envelope.occurred_at),
        "payload": to_json_object(envelope.command),
    }
    if envelope.signature is not None:
        data["signature"] = envelope.signature.to_json()
    return data


def encode_command(envelope: CommandEnvelope) -> bytes:
    return canonical_json(command_to_json(envelope))


def _optional_text(data: JsonObject, key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise DecodeError(f"command field '{key}' must be a string", key)
    return value


def _text(data: JsonObject, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise DecodeError(f"command field '{key}' must be a non-empty string", key)
    return value


def decode_command(raw: bytes | str) -> CommandEnvelope:
    data = loads_object(raw, "command")
    type_name = _text(data, "type")
    cls = COMMAND_TYPES.get(type_name)
    if cls is None:
        raise DecodeError(f"unknown command type '{type_name}'", "type")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise DecodeError("command payload must be an object", "payload")
    command = from_json_object(cls, payload)
    envelope = CommandEnvelope(
        command_id=CommandId(_text(data, "command_id")),
        correlation_id=_text(data, "correlation_id"),
        actor=actor_from_json(data.get("actor")),
        issued_at=parse_instant(_text(data, "issued_at"), "issued_at"),
        occurred_at=parse_instant(_text(data, "occurred_at"), "occurred_at"),
        command=command,
        signature=signature_from_json(data["signature"]) if "signature" in data else None,
    )
    if not envelope.stream_id.startswith((CASE_STREAM_PREFIX, STATE_STREAM_PREFIX)):
        raise DecodeError(
            f"stream '{envelope.stream_id}' is neither case:<id> nor state:<ISO3>", "stream_id"
        )
    if data.get("stream_id") != envelope.stream_id:
        raise DecodeError(
            f"stream_id {data.get('stream_id')!r} does not match the command's stream "
            f"{envelope.stream_id!r}",
            "stream_id",
        )
    return envelope


@dataclass(frozen=True, slots=True)
class Position:
    """Where an event sits in the log."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The decider's answer to one command; the same command id always gets the same one."""

    command_id: CommandId
    stream_id: StreamId
    status: ResultStatus
    rejection: RejectionDetail | None = None
    event_ids: tuple[str, ...] = ()
    positions: tuple[Position, ...] = field(default=())

    def to_json(self) -> JsonObject:
        rejection: JsonValue = None
        if self.rejection is not None:
            rejection = {
                "code": self.rejection.code,
                "message": self.rejection.message,
                "field": self.rejection.field,
            }
        return {
            "command_id": self.command_id,
            "stream_id": self.stream_id,
            "status": self.status,
            "rejection": rejection,
            "event_ids": list(self.event_ids),
            "positions": [{"partition": p.partition, "offset": p.offset} for p in self.positions],
        }


def encode_result(result: CommandResult) -> bytes:
    return canonical_json(result.to_json())


def decode_result(raw: bytes | str) -> CommandResult:
    data = loads_object(raw, "command result")
    status = data.get("status")
    if status not in ("accepted", "rejected"):
        raise DecodeError(f"unknown result status {status!r}", "status")
    rejection = None
    raw_rejection = data.get("rejection")
    if isinstance(raw_rejection, dict):
        rejection = from_json_object(RejectionDetail, raw_rejection)
    event_ids = data.get("event_ids")
    positions = data.get("positions")
    if not isinstance(event_ids, list) or not isinstance(positions, list):
        raise DecodeError("command result needs event_ids and positions lists")
    return CommandResult(
        command_id=CommandId(_text(data, "command_id")),
        # Empty when the decider could not read the command's stream (an undecodable one).
        stream_id=StreamId(_optional_text(data, "stream_id")),
        status="accepted" if status == "accepted" else "rejected",
        rejection=rejection,
        event_ids=tuple(str(e) for e in event_ids),
        positions=tuple(from_json_object(Position, p) for p in positions if isinstance(p, dict)),
    )
