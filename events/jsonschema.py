"""JSON Schemas (draft 2020-12) of events and commands, generated from the dataclasses.

They let a Member State's own system validate a command before it submits it, and
anyone holding an export validate the events, without this code. The files in
``schemas/`` are written by ``accountability schema --write``; ``accountability schema``
and the unit tests fail when they differ from what this module generates.

- ``<Type>.v<version>.schema.json``: the payload of one event type at one version;
- ``envelope.schema.json``: a whole event, its ``payload`` checked according to ``type``;
- ``commands.schema.json``: a command as it travels on the command topic, with one
  ``$defs`` entry per command, so that ``commands.schema.json#/$defs/ReportAllegation``
  validates a payload on its own.

Event payloads require every field, because the canonical encoding writes every
field; command payloads require only the fields without a default, because the
decoder fills those in.
"""

import dataclasses
import inspect
import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Final, get_args, get_type_hints

from .catalogue import EVENT_TYPES
from .codec import FieldKind, field_specs, format_instant
from .commands import COMMAND_TYPES, CommandEnvelope
from .privacy import SEALED_PATTERN, SealedText
from .signing import STATEMENT_FORMAT
from .types import CountryCode, JsonObject, JsonValue
from .upcasters import LEGACY_PAYLOADS
from .vocabulary import Role

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
BASE_URI: Final = "https://schemas.sea-accountability.org"
SCHEMA_DIR: Final = Path(__file__).with_name("schemas")
ENVELOPE_FILE: Final = "envelope.schema.json"
COMMANDS_FILE: Final = "commands.schema.json"

# [0-9] rather than \d: a JSON Schema pattern is an ECMA-262 regex, where \d is ASCII
# only, but Python validators would also accept other scripts' digits for \d.
_DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_INSTANT_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_COUNTRY_PATTERN: Final = r"^[A-Z]{3}$"
_HASH_PATTERN: Final = r"^[0-9a-f]{64}$"
_UUID_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_STREAM_PATTERN: Final = r"^(case:.+|state:[A-Z]{3})$"

# Event and command names are PascalCase, so lower-case names of shared definitions
# can never collide with them in ``$defs``.
_ACTOR_REF: Final = "#/$defs/actor"
_HASH_REF: Final = "#/$defs/sha256"


# --- payloads ---------------------------------------------------------------------


def _instant() -> JsonObject:
    return {"type": "string", "format": "date-time", "pattern": _INSTANT_PATTERN}


def _country() -> JsonObject:
    return {"type": "string", "pattern": _COUNTRY_PATTERN, "description": "ISO 3166-1 alpha-3"}


def _sealed() -> JsonObject:
    return {
        "type": "string",
        "pattern": SEALED_PATTERN,
        "description": "ciphertext under the case's key (enc:v1:<key id>:<nonce>:<ciphertext>); "
        "never plain text",
    }


def _scalar(kind: FieldKind, is_country: bool, is_sealed: bool = False) -> JsonObject:
    enum = kind.enum
    if enum is not None:
        return {"type": "string", "enum": [member.value for member in enum]}
    if kind.base is bool:
        return {"type": "boolean"}
    if kind.base is int:
        return {"type": "integer"}
    if kind.base is datetime:
        return _instant()
    if kind.base is date:
        return {"type": "string", "format": "date", "pattern": _DATE_PATTERN}
    if kind.base is str:
        if is_sealed:
            return _sealed()
        return _country() if is_country else {"type": "string"}
    raise TypeError(f"no JSON Schema for {kind!r}")


def _nullable(schema: JsonObject) -> JsonObject:
    out = dict(schema)
    out["type"] = [schema["type"], "null"]
    enum = schema.get("enum")
    if isinstance(enum, list):
        # ``enum`` is checked on its own, whatever ``type`` allows.
        out["enum"] = [*enum, None]
    return out


def _field_schema(kind: FieldKind, is_country: bool, is_sealed: bool = False) -> JsonObject:
    item = _scalar(kind, is_country, is_sealed)
    schema: JsonObject = {"type": "array", "items": item} if kind.repeated else item
    return _nullable(schema) if kind.optional else schema


def _names_country(hint: object) -> bool:
    """Whether an annotation is or wraps ``CountryCode``, which ``field_specs`` unwraps."""
    return hint is CountryCode or any(_names_country(arg) for arg in get_args(hint))


def _names_sealed(hint: object) -> bool:
    """Whether an annotation is or wraps ``SealedText``."""
    return hint is SealedText or any(_names_sealed(arg) for arg in get_args(hint))


def _description(cls: type) -> str | None:
    doc = cls.__doc__
    # dataclass() fills a missing docstring with the signature, which says nothing new.
    if not doc or doc.startswith(f"{cls.__name__}("):
        return None
    return inspect.cleandoc(doc)


def _default(value: object) -> JsonValue:
    if isinstance(value, tuple):
        return [_default(item) for item in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"no JSON for the default {value!r}")


def _defaults(cls: type) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = _default(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = _default(f.default_factory())
    return out


def payload_schema(cls: type, *, require_all: bool = True) -> JsonObject:
    """The schema of a payload or command dataclass, without ``$schema`` or ``$id``.

    With ``require_all`` false, fields with a default are optional and their
    default is stated, as a command's decoder sees them.
    """
    hints = get_type_hints(cls)
    specs = field_specs(cls)
    defaults = {} if require_all else _defaults(cls)
    properties: JsonObject = {}
    for spec in specs:
        hint = hints[spec.name]
        field = _field_schema(spec.kind, _names_country(hint), _names_sealed(hint))
        if spec.name in defaults:
            field["default"] = defaults[spec.name]
        properties[spec.name] = field
    schema: JsonObject = {
        "title": cls.__name__,
        "type": "object",
        "additionalProperties": False,
        "required": [spec.name for spec in specs if require_all or spec.required],
        "properties": properties,
    }
    description = _description(cls)
    if description is not None:
        schema["description"] = description
    return schema


def event_schema_id(cls: type, name: str | None = None) -> str:
    return f"{BASE_URI}/events/{name or cls.__name__}/v{_version(cls)}.json"


def event_schema_file(cls: type, name: str | None = None) -> str:
    return f"{name or cls.__name__}.v{_version(cls)}.schema.json"


def _all_versions() -> list[tuple[str, int, type]]:
    """Every payload shape the log may hold: (type, version, dataclass), current and earlier."""
    current = [(name, _version(cls), cls) for name, cls in EVENT_TYPES.items()]
    legacy = [(name, version, cls) for (name, version), cls in LEGACY_PAYLOADS.items()]
    return sorted(current + legacy, key=lambda item: (item[0], item[1]))


def _version(cls: type) -> int:
    version = getattr(cls, "schema_version", None)
    if not isinstance(version, int):
        raise TypeError(f"{cls.__name__} has no schema_version")
    return version


def event_schema(cls: type, name: str | None = None) -> JsonObject:
    """The standalone schema of one event type's payload at one version."""
    schema = payload_schema(cls)
    if name is not None:
        schema["title"] = name
    return {"$schema": DIALECT, "$id": event_schema_id(cls, name), **schema}


# --- envelopes --------------------------------------------------------------------


def _actor() -> JsonObject:
    country = _nullable(_country())
    country["description"] = "the Member State the principal acts for, if its role has one"
    return {
        "title": "Actor",
        "description": "The authenticated principal behind the command.",
        "type": "object",
        "additionalProperties": False,
        "required": ["principal_id", "role", "member_state"],
        "properties": {
            "principal_id": {"type": "string", "minLength": 1},
            "role": {"type": "string", "enum": [role.value for role in Role]},
            "member_state": country,
        },
    }


def _sha256() -> JsonObject:
    return {"type": "string", "pattern": _HASH_PATTERN, "description": "SHA-256, lowercase hex"}


def _base64(size: int, what: str) -> JsonObject:
    length = 4 * ((size + 2) // 3)
    return {
        "type": "string",
        "pattern": f"^[A-Za-z0-9+/]{{{length - 2}}}[A-Za-z0-9+/=]{{2}}$",
        "description": f"{what}: {size} bytes, standard base64",
    }


def _signature_properties() -> JsonObject:
    return {
        "key_id": {
            "type": "string",
            "pattern": "^[0-9a-f]{16}$",
            "description": "first 16 hex digits of SHA-256 over the raw public key",
        },
        "signature": _base64(64, "the signature"),
    }


def _command_signature() -> JsonObject:
    return {
        "title": "Signature",
        "description": (
            "A Member State's Ed25519 signature over the command's statement: canonical JSON "
            f"of format ({STATEMENT_FORMAT}), command_id, type, stream_id, occurred_at and "
            "payload. Present only on signed commands."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["key_id", "signature"],
        "properties": _signature_properties(),
    }


def _event_signature() -> JsonObject:
    return {
        **_command_signature(),
        "description": (
            "The signature of the command this event records, with the command's type and "
            "payload: the statement is rebuilt from them and the envelope's command_id, "
            "stream_id and occurred_at. Present only on the events of signed commands."
        ),
        "required": ["key_id", "signature", "command"],
        "properties": {
            **_signature_properties(),
            "command": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "payload"],
                "properties": {
                    "type": {"type": "string", "enum": [*sorted(COMMAND_TYPES)]},
                    "payload": {"type": "object"},
                },
            },
        },
    }


def _by_type(types: Mapping[str, type]) -> list[JsonValue]:
    """One ``if type is X then payload is X`` rule per type, to pick the payload's schema."""
    return [
        {
            "if": {"required": ["type"], "properties": {"type": {"const": name}}},
            "then": {"properties": {"payload": {"$ref": f"#/$defs/{name}"}}},
        }
        for name in sorted(types)
    ]


def _by_type_and_version() -> list[JsonValue]:
    """For events: the versions a type has, and the payload schema of each version."""
    rules: list[JsonValue] = []
    versions: dict[str, list[JsonValue]] = {}
    for name, version, _ in _all_versions():
        versions.setdefault(name, []).append(version)
        rules.append(
            {
                "if": {
                    "required": ["type", "schema_version"],
                    "properties": {
                        "type": {"const": name},
                        "schema_version": {"const": version},
                    },
                },
                "then": {"properties": {"payload": {"$ref": f"#/$defs/{name}.v{version}"}}},
            }
        )
    for name, known in sorted(versions.items()):
        rules.append(
            {
                "if": {"required": ["type"], "properties": {"type": {"const": name}}},
                "then": {"properties": {"schema_version": {"enum": known}}},
            }
        )
    return rules


def envelope_schema() -> JsonObject:
    """A whole event as stored on the log, at any payload version the log may hold."""
    defs: JsonObject = {}
    for name, version, cls in _all_versions():
        defs[f"{name}.v{version}"] = {**payload_schema(cls), "title": name}
    defs["actor"] = _actor()
    defs["sha256"] = _sha256()
    properties: JsonObject = {
        "event_id": {
            "type": "string",
            "format": "uuid",
            "pattern": _UUID_PATTERN,
            "description": "derived from command_id and the event's position in its command",
        },
        "type": {"type": "string", "enum": [*sorted(EVENT_TYPES)]},
        "schema_version": {"type": "integer", "minimum": 1},
        "stream_id": {
            "type": "string",
            "pattern": _STREAM_PATTERN,
            "description": "case:<case id>, or state:<ISO 3166-1 alpha-3>",
        },
        "sequence": {"type": "integer", "minimum": 1, "description": "1, 2, 3 … per stream"},
        "occurred_at": {**_instant(), "description": "when it happened in the world"},
        "recorded_at": {**_instant(), "description": "when the decider accepted it"},
        "actor": {"$ref": _ACTOR_REF},
        "command_id": {"type": "string", "minLength": 1},
        "correlation_id": {"type": "string", "minLength": 1},
        "payload": {"type": "object"},
        "prev_hash": {
            "$ref": _HASH_REF,
            "description": "hash of the stream's previous event; 64 zeros for the first",
        },
        "hash": {
            "$ref": _HASH_REF,
            "description": "SHA-256 of the canonical JSON of the envelope without hash",
        },
        "signature": {"$ref": "#/$defs/signature"},
    }
    defs["signature"] = _event_signature()
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_URI}/events/envelope.json",
        "title": "Event envelope",
        "description": (
            "One event as canonical JSON: sorted keys, UTF-8, no insignificant whitespace."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name != "signature"],
        "properties": properties,
        "allOf": _by_type_and_version(),
        "$defs": defs,
    }


def commands_schema() -> JsonObject:
    """A command as it travels on the command topic, with each command payload in ``$defs``."""
    defs: JsonObject = {
        name: payload_schema(cls, require_all=False) for name, cls in COMMAND_TYPES.items()
    }
    defs["actor"] = _actor()
    properties: JsonObject = {
        "command_id": {
            "type": "string",
            "minLength": 1,
            "description": "idempotency key: a retried command yields the same events",
        },
        "correlation_id": {"type": "string", "minLength": 1},
        "type": {"type": "string", "enum": [*sorted(COMMAND_TYPES)]},
        "schema_version": {"type": "integer", "const": CommandEnvelope.schema_version},
        "stream_id": {
            "type": "string",
            "pattern": _STREAM_PATTERN,
            "description": "case:<case_id>, or state:<member_state> for SignVoluntaryCompact",
        },
        "actor": {"$ref": _ACTOR_REF},
        "issued_at": {**_instant(), "description": "when the command was issued"},
        "occurred_at": {**_instant(), "description": "when it happened in the world"},
        "payload": {"type": "object"},
        "signature": {"$ref": "#/$defs/signature"},
    }
    defs["signature"] = _command_signature()
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_URI}/commands/envelope.json",
        "title": "Command envelope",
        "description": (
            "A command as submitted for decision. To validate a payload alone, use "
            "#/$defs/<command type>."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name != "signature"],
        "properties": properties,
        "allOf": _by_type(COMMAND_TYPES),
        "$defs": defs,
    }


# --- files ------------------------------------------------------------------------


def render(schema: JsonObject) -> str:
    """The text of a schema file: sorted keys, two-space indent, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_documents() -> dict[str, JsonObject]:
    """Every schema file by its name in ``schemas/``."""
    documents = {
        event_schema_file(cls, name): event_schema(cls, name) for name, _, cls in _all_versions()
    }
    documents[ENVELOPE_FILE] = envelope_schema()
    documents[COMMANDS_FILE] = commands_schema()
    return dict(sorted(documents.items()))


def schema_files() -> dict[str, str]:
    """The text of every schema file by its name in ``schemas/``."""
    return {name: render(document) for name, document in schema_documents().items()}
