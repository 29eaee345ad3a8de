"""The hash chain: a sealed stream verifies, and any change to it fails at the first
event it touches, naming that event.

Streams are sealed the way the decider seals them: ``seal`` over random commands,
each with one to three random events, continuing from the previous head.
"""

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accountability.events.catalogue import EVENT_TYPES, CaseClosed
from accountability.events.codec import (
    FieldKind,
    canonical_json,
    field_specs,
    format_instant,
    to_json_object,
)
from accountability.events.commands import (
    COMMAND_TYPES,
    Actor,
    CaseCommand,
    CloseCase,
    CommandEnvelope,
)
from accountability.events.envelope import (
    GENESIS_HASH,
    Envelope,
    StreamHead,
    derive_event_id,
    seal,
    stored_hash_of,
    verify_link,
)
from accountability.events.errors import ChainBroken, DecodeError, DomainError
from accountability.events.types import CaseId, CommandId, CountryCode, Hash, JsonObject, JsonValue
from accountability.events.vocabulary import ClosureReason, Role

T = TypeVar("T")

PROPERTIES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ---------------------------------------------------------------------

# Control characters are left out of strings: JSON writes them as \u00XX escapes, and
# changing the case of an escape's hex digit changes the stored bytes but not the value
# that the hash covers, so the byte-flip property would not hold for them.
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=16)
NON_EMPTY = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=16)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - the bounds of an aware strategy are naive
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5))]),
)
COUNTRY_CODES = st.from_regex(r"[A-Z]{3}", fullmatch=True).map(CountryCode)
HASHES = st.from_regex(r"[0-9a-f]{64}", fullmatch=True).map(Hash)
CASE_IDS = st.from_regex(r"C-[0-9A-F]{12}", fullmatch=True).map(CaseId)
ACTORS = st.builds(
    Actor,
    principal_id=NON_EMPTY,
    role=st.sampled_from(Role),
    member_state=st.none() | COUNTRY_CODES,
)
CASE_COMMANDS = sorted(
    (cls for cls in COMMAND_TYPES.values() if issubclass(cls, CaseCommand)),
    key=lambda cls: cls.__name__,
)


def values_of(kind: FieldKind) -> st.SearchStrategy[object]:
    enum = kind.enum
    base: st.SearchStrategy[object]
    if enum is not None:
        base = st.sampled_from(list(enum))
    elif kind.base is bool:
        base = st.booleans()
    elif kind.base is int:
        base = st.integers(-(2**40), 2**40)
    elif kind.base is datetime:
        base = INSTANTS
    elif kind.base is date:
        base = st.dates(date(2000, 1, 1), date(2100, 1, 1))
    elif kind.base is str:
        base = TEXT
    else:
        raise TypeError(f"no strategy for {kind!r}")
    if kind.repeated:
        base = st.lists(base, max_size=3).map(tuple)
    return st.none() | base if kind.optional else base


def instances_of(cls: type[T], **fixed: object) -> st.SearchStrategy[T]:
    drawn = {spec.name: values_of(spec.kind) for spec in field_specs(cls)}
    return st.builds(cls, **{**drawn, **{name: st.just(value) for name, value in fixed.items()}})


EVENTS = st.sampled_from(sorted(EVENT_TYPES.values(), key=lambda c: c.__name__)).flatmap(
    instances_of
)


def commands_on(case_id: CaseId) -> st.SearchStrategy[CommandEnvelope]:
    commands = st.sampled_from(CASE_COMMANDS).flatmap(
        lambda cls: instances_of(cls, case_id=case_id)
    )
    return st.builds(
        CommandEnvelope,
        command_id=st.uuids().map(lambda u: CommandId(str(u))),
        correlation_id=NON_EMPTY,
        actor=ACTORS,
        issued_at=INSTANTS,
        occurred_at=INSTANTS,
        command=commands,
    )


@st.composite
def streams(draw: st.DrawFn, min_events: int = 1) -> list[tuple[Envelope, bytes]]:
    """One case's stream: several commands sealed one after the other."""
    case_id = draw(CASE_IDS)
    head = StreamHead()
    sealed: list[tuple[Envelope, bytes]] = []
    while len(sealed) < min_events or draw(st.integers(0, 3)) > 0:
        command = draw(commands_on(case_id))
        events = draw(st.lists(EVENTS, min_size=1, max_size=3))
        batch = seal(head, command, events, draw(INSTANTS))
        sealed.extend(batch)
        head = batch[-1][0].head
        if len(sealed) >= 8:
            break
    return sealed


# --- verification ---------------------------------------------------------------------


def first_failure(stored: list[bytes]) -> tuple[int, DomainError] | None:
    """Verify a stream from its first event: where it stops, and why."""
    head = StreamHead()
    for index, raw in enumerate(stored):
        try:
            head = verify_link(raw, head).head
        except (ChainBroken, DecodeError) as exc:
            return index, exc
    return None


def where(raw: bytes) -> str:
    """How a ChainBroken names the event it stops at, from the (possibly changed) bytes."""
    data = json.loads(raw)
    return f"{data.get('stream_id')} #{data.get('sequence')} ({data.get('event_id')})"


def assert_breaks_at(stored: list[bytes], index: int) -> None:
    failure = first_failure(stored)
    assert failure is not None, "the changed stream still verifies"
    assert failure[0] == index
    assert isinstance(failure[1], ChainBroken)
    assert where(stored[index]) in str(failure[1])


@PROPERTIES
@given(streams())
def test_every_link_of_a_sealed_stream_verifies(sealed):
    head = StreamHead()
    for envelope, raw in sealed:
        verified = verify_link(raw, head)

        assert verified == envelope
        assert verified.prev_hash == head.hash
        head = verified.head
    assert sealed[0][0].prev_hash == GENESIS_HASH
    assert [e.sequence for e, _ in sealed] == list(range(1, len(sealed) + 1))


@PROPERTIES
@given(streams())
def test_the_stored_bytes_hash_to_the_stored_hash(sealed):
    for envelope, raw in sealed:
        assert stored_hash_of(raw) == (envelope.hash, envelope.hash)
        assert json.loads(raw)["hash"] == envelope.hash


# --- changes ---------------------------------------------------------------------------

_TOP_LEVEL_VALUES: dict[str, st.SearchStrategy[JsonValue]] = {
    "event_id": NON_EMPTY,
    "stream_id": NON_EMPTY,
    "command_id": NON_EMPTY,
    "correlation_id": NON_EMPTY,
    "sequence": st.integers(0, 100),
    "occurred_at": INSTANTS.map(format_instant),
    "recorded_at": INSTANTS.map(format_instant),
    "prev_hash": HASHES,
    "hash": HASHES,
}
_ACTOR_VALUES: dict[str, st.SearchStrategy[JsonValue]] = {
    "principal_id": NON_EMPTY,
    "role": st.sampled_from([role.value for role in Role]),
    "member_state": st.none() | COUNTRY_CODES,
}


@st.composite
def changed_value(draw: st.DrawFn, document: JsonObject) -> JsonObject:
    """``document`` with one field set to another value that still decodes."""
    payload = document["payload"]
    actor = document["actor"]
    assert isinstance(payload, dict)
    assert isinstance(actor, dict)
    paths = [
        *((name,) for name in _TOP_LEVEL_VALUES),
        *(("actor", name) for name in _ACTOR_VALUES),
        *(("payload", name) for name in payload),
    ]
    path = draw(st.sampled_from(paths))
    if path[0] == "payload":
        # Another payload of the same type gives a value the payload's decoder accepts.
        other = draw(instances_of(EVENT_TYPES[str(document["type"])]))
        container, new = payload, to_json_object(other)[path[1]]
    elif path[0] == "actor":
        container, new = actor, draw(_ACTOR_VALUES[path[1]])
    else:
        container, new = document, draw(_TOP_LEVEL_VALUES[path[0]])
    assume(new != container[path[-1]])
    container[path[-1]] = new
    return document


@PROPERTIES
@given(streams(), st.data())
def test_changing_any_field_value_breaks_the_chain_at_that_event(sealed, data):
    stored = [raw for _, raw in sealed]
    index = data.draw(st.integers(0, len(stored) - 1), label="index")
    document = data.draw(changed_value(json.loads(stored[index])), label="changed")
    stored[index] = canonical_json(document)

    assert_breaks_at(stored, index)


@PROPERTIES
@given(streams(), st.data())
def test_changing_any_byte_stops_verification_at_that_event(sealed, data):
    stored = [raw for _, raw in sealed]
    index = data.draw(st.integers(0, len(stored) - 1), label="index")
    raw = bytearray(stored[index])
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    raw[position] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]))
    stored[index] = bytes(raw)

    failure = first_failure(stored)

    assert failure is not None, "the changed stream still verifies"
    assert failure[0] == index
    if isinstance(failure[1], ChainBroken):
        assert where(stored[index]) in str(failure[1])


@PROPERTIES
@given(streams(min_events=2), st.data())
def test_dropping_an_event_breaks_the_chain_at_its_successor(sealed, data):
    stored = [raw for _, raw in sealed]
    # Dropping the last event leaves a shorter stream whose links are all sound: only
    # the stream's head, kept elsewhere, can tell that one is missing.
    index = data.draw(st.integers(0, len(stored) - 2), label="index")
    del stored[index]

    assert_breaks_at(stored, index)


@PROPERTIES
@given(streams(min_events=2), st.data())
def test_reordering_events_breaks_the_chain_at_the_first_moved_one(sealed, data):
    stored = [raw for _, raw in sealed]
    order = data.draw(st.permutations(range(len(stored))), label="order")
    assume(order != sorted(order))
    reordered = [stored[i] for i in order]

    first_moved = next(k for k, i in enumerate(order) if k != i)
    assert_breaks_at(reordered, first_moved)


@PROPERTIES
@given(streams(), st.data())
def test_a_duplicated_event_breaks_the_chain_where_it_repeats(sealed, data):
    stored = [raw for _, raw in sealed]
    index = data.draw(st.integers(0, len(stored) - 1), label="index")
    at = data.draw(st.integers(index + 1, len(stored)), label="at")
    stored.insert(at, stored[index])

    assert_breaks_at(stored, at)


@PROPERTIES
@given(streams(), st.data())
def test_an_inserted_event_breaks_the_chain_where_it_is_inserted(sealed, data):
    stored = [raw for _, raw in sealed]
    at = data.draw(st.integers(0, len(stored)), label="at")
    expected_head = sealed[at - 1][0].head if at > 0 else StreamHead()
    # An event sealed on the very head it is inserted after is a valid continuation of
    # the prefix; the chain then breaks at the next original event instead.
    foreign_head = data.draw(st.builds(StreamHead, st.integers(0, 20), HASHES), label="head")
    assume(foreign_head != expected_head)
    command = data.draw(commands_on(data.draw(CASE_IDS)), label="command")
    event = data.draw(EVENTS, label="event")
    [(_, foreign)] = seal(foreign_head, command, [event], data.draw(INSTANTS))
    stored.insert(at, foreign)

    assert_breaks_at(stored, at)


# --- event ids -----------------------------------------------------------------------------


@PROPERTIES
@given(
    commands_on(CaseId("C-1")),
    st.lists(EVENTS, min_size=1, max_size=4),
    st.builds(StreamHead, st.integers(0, 100), HASHES),
    INSTANTS,
    INSTANTS,
)
def test_event_ids_depend_only_on_the_command_id_and_position(
    command, events, other_head, recorded_at, recorded_again
):
    first = seal(StreamHead(), command, events, recorded_at)
    retried = seal(other_head, command, events, recorded_again)

    ids = [envelope.event_id for envelope, _ in first]
    assert ids == [envelope.event_id for envelope, _ in retried]
    assert ids == [derive_event_id(command.command_id, p) for p in range(len(events))]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)


@PROPERTIES
@given(st.uuids(), st.uuids(), st.integers(0, 50), st.integers(0, 50))
def test_different_commands_or_positions_get_different_event_ids(a, b, p, q):
    assume((a, p) != (b, q))

    assert derive_event_id(str(a), p) != derive_event_id(str(b), q)


def test_a_stream_verifies_only_from_the_genesis_hash():
    command = CommandEnvelope(
        command_id=CommandId("5b6f7a0e-3c1d-4e8a-9f2b-0d4c6e8a1b3c"),
        correlation_id="5b6f7a0e-3c1d-4e8a-9f2b-0d4c6e8a1b3c",
        actor=Actor("officer-conduct-unit", Role.OFFICER),
        issued_at=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        occurred_at=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        command=CloseCase(CaseId("C-1"), ClosureReason.ACTION_COMPLETED),
    )
    [(envelope, raw)] = seal(
        StreamHead(), command, [CaseClosed(ClosureReason.ACTION_COMPLETED)], command.issued_at
    )

    assert envelope.prev_hash == GENESIS_HASH
    assert verify_link(raw, StreamHead()) == envelope
    with pytest.raises(ChainBroken, match=r"case:C-1 #1 \(.*\): prev_hash is not the hash of #0"):
        verify_link(raw, StreamHead(0, Hash("f" * 64)))
