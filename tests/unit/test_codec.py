"""The codec: every value it writes it reads back, always as the same bytes.

Payloads are drawn from ``field_specs``, so a field added to an event or a command is
covered without touching this file.
"""

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import get_args, get_type_hints

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accountability.events.catalogue import EVENT_TYPES
from accountability.events.codec import (
    FieldKind,
    canonical_json,
    field_specs,
    format_instant,
    from_json_object,
    parse_instant,
    to_json_object,
)
from accountability.events.commands import COMMAND_TYPES, Actor, CommandEnvelope
from accountability.events.envelope import (
    StreamHead,
    decode_and_hash,
    decode_envelope,
    encode_envelope,
    seal,
    stored_hash_of,
)
from accountability.events.errors import DecodeError, RejectionDetail
from accountability.events.jsonschema import commands_schema, event_schema
from accountability.events.privacy import SEALED_PATTERN, SealedText
from accountability.events.types import CommandId, CountryCode, Hash, JsonValue, StreamId
from accountability.events.vocabulary import Role
from accountability.events.wire import (
    CommandResult,
    Position,
    decode_command,
    decode_result,
    encode_command,
    encode_result,
)

PROPERTIES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ---------------------------------------------------------------------

OFFSETS = st.sampled_from([0, 60, -180, 330, 345, 840, -720]) | st.integers(-23 * 60, 23 * 60)
# Instants whose UTC conversion leaves datetime's range are refused as DecodeError
# (see the malformed-input cases below), so the properties stay inside the range.
INSTANTS = st.datetimes(
    min_value=datetime(1000, 1, 2),  # noqa: DTZ001 - the bounds of an aware strategy are naive
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.one_of(
        st.just(UTC), OFFSETS.map(lambda minutes: timezone(timedelta(minutes=minutes)))
    ),
)
COUNTRY_CODES = st.from_regex(r"[A-Z]{3}", fullmatch=True).map(CountryCode)
NON_EMPTY = st.text(min_size=1, max_size=20)
HASHES = st.from_regex(r"[0-9a-f]{64}", fullmatch=True).map(Hash)
JSON_VALUES: st.SearchStrategy[JsonValue] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


SEALED_TEXTS = st.from_regex(SEALED_PATTERN, fullmatch=True).map(SealedText)


def values_of(
    kind: FieldKind, country: bool = False, sealed: bool = False
) -> st.SearchStrategy[object]:
    """Any value a field of this kind may hold; a country field, any ISO-shaped code; a
    sealed text field, any string of the sealed form."""
    enum = kind.enum
    base: st.SearchStrategy[object]
    if enum is not None:
        base = st.sampled_from(list(enum))
    elif kind.base is bool:
        base = st.booleans()
    elif kind.base is int:
        base = st.integers()
    elif kind.base is datetime:
        base = INSTANTS
    elif kind.base is date:
        base = st.dates()
    elif country:
        base = COUNTRY_CODES
    elif sealed:
        base = SEALED_TEXTS
    elif kind.base is str:
        base = st.text(max_size=20)
    else:
        raise TypeError(f"no strategy for {kind!r}")
    if kind.repeated:
        base = st.lists(base, max_size=3).map(tuple)
    return st.none() | base if kind.optional else base


def _is_country(hint: object) -> bool:
    return hint is CountryCode or any(_is_country(arg) for arg in get_args(hint))


def _is_sealed(hint: object) -> bool:
    return hint is SealedText or any(_is_sealed(arg) for arg in get_args(hint))


def instances_of(cls: type, *, countries: bool = False) -> st.SearchStrategy[object]:
    """Payloads or commands of ``cls``, every field drawn.

    The codec takes any text for a ``CountryCode`` or a ``SealedText``, so the round
    trips draw any text; the JSON Schemas hold country fields to three capital letters
    and sealed text to its ``enc:v1`` form, as the decider does, so the schema checks
    draw ``countries`` (and sealed texts with them).
    """
    hints = get_type_hints(cls)
    fields = {
        spec.name: values_of(
            spec.kind,
            countries and _is_country(hints[spec.name]),
            countries and _is_sealed(hints[spec.name]),
        )
        for spec in field_specs(cls)
    }
    if "stream" in fields:
        # A correction names a stream; the wire refuses one of neither kind.
        fields["stream"] = st.sampled_from(["case:C1", "state:GAB"])
    return st.builds(cls, **fields)


ACTORS = st.builds(
    Actor,
    principal_id=NON_EMPTY,
    role=st.sampled_from(Role),
    member_state=st.none() | COUNTRY_CODES,
)
COMMANDS = st.sampled_from(sorted(COMMAND_TYPES.values(), key=lambda c: c.__name__)).flatmap(
    instances_of
)
EVENTS = st.sampled_from(sorted(EVENT_TYPES.values(), key=lambda c: c.__name__)).flatmap(
    instances_of
)
COMMAND_ENVELOPES = st.builds(
    CommandEnvelope,
    command_id=NON_EMPTY.map(CommandId),
    correlation_id=NON_EMPTY,
    actor=ACTORS,
    issued_at=INSTANTS,
    occurred_at=INSTANTS,
    command=COMMANDS,
)
HEADS = st.builds(StreamHead, sequence=st.integers(0, 10_000), hash=HASHES)
SEALED = st.builds(
    seal, HEADS, COMMAND_ENVELOPES, st.lists(EVENTS, min_size=1, max_size=3), INSTANTS
)
RESULTS = st.builds(
    CommandResult,
    command_id=NON_EMPTY.map(CommandId),
    stream_id=NON_EMPTY.map(StreamId),
    status=st.sampled_from(["accepted", "rejected"]),
    rejection=st.none() | st.builds(RejectionDetail, NON_EMPTY, st.text(), st.none() | NON_EMPTY),
    event_ids=st.lists(NON_EMPTY, max_size=3).map(tuple),
    positions=st.lists(st.builds(Position, st.integers(0, 64), st.integers(0)), max_size=3).map(
        tuple
    ),
)


def _floats_in(value: JsonValue) -> list[object]:
    if isinstance(value, list):
        return [f for item in value for f in _floats_in(item)]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats_in(item)]
    return [value] if isinstance(value, float) else []


def by_name(types: Mapping[str, type]) -> list[object]:
    return [pytest.param(cls, id=name) for name, cls in sorted(types.items())]


# --- payloads and commands ------------------------------------------------------------


@pytest.mark.parametrize("cls", by_name(EVENT_TYPES))
@PROPERTIES
@given(data=st.data())
def test_every_event_payload_round_trips(cls, data):
    payload = data.draw(instances_of(cls))

    encoded = to_json_object(payload)

    assert set(encoded) == {spec.name for spec in field_specs(cls)}
    assert _floats_in(encoded) == []
    assert from_json_object(cls, json.loads(canonical_json(encoded))) == payload


@pytest.mark.parametrize("cls", by_name(COMMAND_TYPES))
@PROPERTIES
@given(data=st.data())
def test_every_command_payload_round_trips(cls, data):
    command = data.draw(instances_of(cls))

    assert from_json_object(cls, json.loads(canonical_json(to_json_object(command)))) == command


@pytest.fixture(scope="module")
def payload_validators():
    """Validators by type name, built once: building one costs more than an example."""
    command_schemas = commands_schema()["$defs"]
    assert isinstance(command_schemas, dict)
    schemas: dict[str, JsonValue] = {name: event_schema(cls) for name, cls in EVENT_TYPES.items()}
    schemas.update(command_schemas)
    return {
        name: jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for name, schema in schemas.items()
    }


@pytest.mark.parametrize("cls", by_name({**EVENT_TYPES, **COMMAND_TYPES}))
@PROPERTIES
@given(data=st.data())
def test_every_payload_the_codec_writes_fits_its_json_schema(cls, data, payload_validators):
    payload = data.draw(instances_of(cls, countries=True))

    payload_validators[cls.__name__].validate(to_json_object(payload))


@PROPERTIES
@given(INSTANTS)
def test_instants_are_written_in_utc_with_microseconds(instant):
    text = format_instant(instant)

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", text)
    assert parse_instant(text) == instant
    assert parse_instant(text).utcoffset() == timedelta(0)


def test_a_naive_datetime_is_never_written():
    with pytest.raises(ValueError, match="no time zone"):
        format_instant(datetime(2024, 3, 1, 9, 30))  # noqa: DTZ001 - the point of the test


# --- canonical JSON -------------------------------------------------------------------

_STRING_LITERAL = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _reversed_keys(value: JsonValue) -> JsonValue:
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    return value


def _keys_sorted(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    assert keys == sorted(keys)
    return dict(pairs)


@PROPERTIES
@given(JSON_VALUES)
def test_canonical_json_is_deterministic_sorted_compact_utf8(value):
    encoded = canonical_json(value)

    assert canonical_json(_reversed_keys(value)) == encoded
    assert json.loads(encoded.decode("utf-8"), object_pairs_hook=_keys_sorted) == value
    assert not re.search(rb"\s", _STRING_LITERAL.sub(b"", encoded))
    assert canonical_json(json.loads(encoded)) == encoded


def test_canonical_json_writes_text_as_utf8_not_escapes():
    assert canonical_json({"b": "Côte d'Ivoire", "a": ["☃", 1, None, True]}) == (
        '{"a":["☃",1,null,true],"b":"Côte d\'Ivoire"}'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param({"x": [float("inf")]}, id="nested infinity"),
        pytest.param(float("-inf"), id="minus infinity"),
    ],
)
def test_canonical_json_refuses_values_json_cannot_hold(value):
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json(value)


# --- envelopes and commands -------------------------------------------------------------


@PROPERTIES
@given(SEALED)
def test_envelopes_round_trip_through_their_canonical_bytes(sealed):
    for envelope, stored in sealed:
        decoded = decode_envelope(stored)

        assert decoded == envelope
        assert decoded.occurred_at.tzinfo is UTC
        assert decoded.recorded_at.tzinfo is UTC
        assert encode_envelope(envelope) == stored
        assert encode_envelope(decoded) == stored
        assert stored_hash_of(stored) == (envelope.hash, envelope.hash)
        assert _floats_in(json.loads(stored)) == []


@PROPERTIES
@given(SEALED)
def test_the_recomputed_hash_tells_a_changed_content_from_a_reformatting(sealed):
    for envelope, stored in sealed:
        reformatted = json.dumps(json.loads(stored), indent=1).encode()
        data = json.loads(stored)
        data["sequence"] += 1
        tampered = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

        assert decode_and_hash(stored) == (envelope, envelope.hash)
        assert decode_and_hash(reformatted) == (envelope, envelope.hash)
        assert decode_and_hash(stored.decode()) == (envelope, envelope.hash)
        assert decode_and_hash(tampered)[1] != envelope.hash


@PROPERTIES
@given(COMMAND_ENVELOPES)
def test_commands_round_trip_through_the_wire(command):
    encoded = encode_command(command)
    decoded = decode_command(encoded)

    assert decoded == command
    assert decoded.occurred_at.tzinfo is UTC
    assert encode_command(decoded) == encoded


@PROPERTIES
@given(RESULTS)
def test_command_results_round_trip_through_the_wire(result):
    assert decode_result(encode_result(result)) == result


# --- malformed input ---------------------------------------------------------------------

DECODERS = [
    pytest.param(decode_envelope, id="envelope"),
    pytest.param(decode_command, id="command"),
    pytest.param(decode_result, id="result"),
]


def _decodes_or_refuses(decode: Callable[[bytes], object], raw: bytes) -> None:
    """The contract of every decoder: a value, or a DecodeError and nothing else."""
    with contextlib.suppress(DecodeError):
        decode(raw)


@pytest.mark.parametrize("decode", DECODERS)
@PROPERTIES
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_decode_error(decode, raw):
    _decodes_or_refuses(decode, raw)


@pytest.mark.parametrize("decode", DECODERS)
@PROPERTIES
@given(value=JSON_VALUES)
def test_arbitrary_json_decodes_or_raises_decode_error(decode, value):
    _decodes_or_refuses(decode, canonical_json(value))


def _paths(value: JsonValue, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(value, dict):
        return []
    return [
        p for key, item in value.items() for p in [(*prefix, key), *_paths(item, (*prefix, key))]
    ]


@st.composite
def damaged(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    """A valid document with one member removed or replaced by any JSON value."""
    document = json.loads(draw(valid))
    path = draw(st.sampled_from(_paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return canonical_json(document)


@pytest.mark.parametrize(
    ("decode", "valid"),
    [
        pytest.param(decode_envelope, SEALED.map(lambda s: s[0][1]), id="envelope"),
        pytest.param(decode_command, COMMAND_ENVELOPES.map(encode_command), id="command"),
        pytest.param(decode_result, RESULTS.map(encode_result), id="result"),
    ],
)
@PROPERTIES
@given(data=st.data())
def test_damaged_documents_decode_or_raise_decode_error(decode, valid, data):
    _decodes_or_refuses(decode, data.draw(damaged(valid)))


_ENVELOPE = (
    b'{"actor":{"member_state":null,"principal_id":"p","role":"officer"},"command_id":"c",'
    b'"correlation_id":"c","event_id":"e","hash":"h","occurred_at":"%s","payload":'
    b'{"reason":"action_completed"},"prev_hash":"p","recorded_at":"2024-03-01T09:30:00Z",'
    b'"schema_version":1,"sequence":1,"stream_id":"case:C1","type":"CaseClosed"}'
)


@pytest.mark.parametrize(
    ("decode", "raw"),
    [
        pytest.param(decode_envelope, b"", id="empty"),
        pytest.param(decode_envelope, b"\xff\xfe\x00", id="not utf-8"),
        pytest.param(decode_command, b"[]", id="array"),
        pytest.param(decode_result, b'{"status":"accepted"}', id="result without ids"),
        pytest.param(decode_envelope, _ENVELOPE % b"2024-03-01T09:30:00", id="naive instant"),
        pytest.param(decode_envelope, b'{"type":"CaseClosed","payload":[]}', id="payload array"),
        pytest.param(
            decode_envelope,
            b"[" * 100_000 + b"]" * 100_000,
            id="deeply nested",
        ),
        pytest.param(
            decode_command,
            b'{"type":' + b"1" * 5000 + b"}",
            id="integer of 5000 digits",
        ),
        pytest.param(
            decode_envelope,
            _ENVELOPE % b"0001-01-01T00:30:00+01:00",
            id="instant before year 1 in utc",
        ),
        pytest.param(
            stored_hash_of,
            _ENVELOPE.replace(b'"correlation_id":"c"', b'"correlation_id":"\\ud800"')
            % b"2024-03-01T09:30:00Z",
            id="lone surrogate, rehashed",
        ),
    ],
)
def test_malformed_input_raises_decode_error(decode, raw):
    with pytest.raises(DecodeError):
        decode(raw)


def test_instants_before_year_1000_round_trip():
    instant = datetime(999, 12, 31, 23, 59, tzinfo=UTC)

    assert parse_instant(format_instant(instant)) == instant
