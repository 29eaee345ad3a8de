"""Every mutation of the schema, tried across tenants through the real API.

Inputs are generated from the schema, so that a mutation added later is tried too:
each required field gets a plain value, with the case, stream or state under test.
A Member State gets one and the same refusal for a case not its own, whether it
exists or not; it is refused when it acts for another state; the public and
oversight bodies are refused before anything reaches the broker. Dead letters, which
hold events' bytes, are read and replayed only by officers and oversight bodies, and
on the record.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from sqlalchemy import select
from support.api import Api, build_api, code_of

from accountability.graphql.schema import build_schema
from accountability.projections import dead_letters
from accountability.services.store import access_log
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
)

SCHEMA: Final = build_schema().graphql_schema
MUTATIONS: Final[dict[str, GraphQLField]] = dict(SCHEMA.mutation_type.fields)
REFUSED: Final = {"Rejected:FORBIDDEN_MEMBER_STATE", "Rejected:FORBIDDEN_ROLE"}
TEXT_COMMANDS: Final = ("recordNarrative", "addCaseNote")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from build_api(tmp_path_factory.mktemp("mutations"))


def _input_type(name: str) -> GraphQLInputObjectType | None:
    argument = MUTATIONS[name].args.get("input")
    if argument is None:
        return None
    kind = argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
    assert isinstance(kind, GraphQLInputObjectType)
    return kind


def _value(kind: GraphQLInputType, name: str, target: dict[str, str]) -> Any:
    if isinstance(kind, GraphQLNonNull):
        return _value(kind.of_type, name, target)
    if isinstance(kind, GraphQLList):
        return [_value(kind.of_type, name, target)]
    if name in target:
        return target[name]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    plain = {"Boolean": False, "Int": 1, "Instant": "2024-06-01T00:00:00Z", "JSONString": "{}"}
    return plain.get(getattr(kind, "name", ""), "X1")


def _input(name: str, **target: str) -> dict[str, Any]:
    """The required fields of ``name``'s input, and every field ``target`` names."""
    kind = _input_type(name)
    assert kind is not None
    return {
        field: _value(spec.type, field, target)
        for field, spec in kind.fields.items()
        if isinstance(spec.type, GraphQLNonNull) or field in target
    }


def _document(name: str) -> str:
    kind = _input_type(name)
    if kind is None:
        return f"mutation($id: ID!) {{ {name}(id: $id) {{ __typename }} }}"
    return (
        f"mutation($i: {kind.name}!) {{ {name}(input: $i) {{ __typename "
        "... on Rejected { code message field } } }"
    )


def _with(*fields: str) -> list[str]:
    return [
        name
        for name in MUTATIONS
        if (kind := _input_type(name)) is not None and any(f in kind.fields for f in fields)
    ]


def _answer(api: Api, name: str, role: str, **target: str) -> tuple[str, str, str | None]:
    """(code, message without the ids under test, field) of a mutation's answer."""
    answer = api.ask(_document(name), role, i=_input(name, **target))
    outcome = (answer.get("data") or {}).get(name) or {}
    message = str(outcome.get("message", ""))
    for given in target.values():
        message = message.replace(given, "<id>")
    return code_of(answer), message, outcome.get("field")


# --- a case not its own ------------------------------------------------------------------------


def test_every_mutation_on_a_case_is_tried() -> None:
    on_cases = _with("caseId", "streamId")

    assert len(on_cases) >= 25
    assert set(TEXT_COMMANDS) <= set(on_cases)


@pytest.mark.parametrize("name", _with("caseId", "streamId"))
def test_a_member_state_gets_one_refusal_for_a_foreign_case_and_a_missing_one(
    api: Api, name: str
) -> None:
    sealed, sent = len(api.submitter.sealed), len(api.submitter.sent)

    foreign = _answer(api, name, "member_state", caseId="NPL-1", streamId="case:NPL-1")
    missing = _answer(api, name, "member_state", caseId="NONE-9", streamId="case:NONE-9")

    assert foreign == missing
    assert foreign[0] in REFUSED, foreign
    assert len(api.submitter.sealed) == sealed, "no key is made for a text a state may not write"
    if name in TEXT_COMMANDS:
        assert len(api.submitter.sent) == sent, "refused at the edge, before sealing"


# --- another state -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", _with("memberState"))
def test_a_member_state_cannot_act_for_another_state(api: Api, name: str) -> None:
    code, _, field = _answer(api, name, "member_state", caseId="PAK-1", memberState="NPL")

    assert code in REFUSED
    assert field in ("memberState", None)


@pytest.mark.parametrize("name", _with("streamId"))
def test_a_member_state_cannot_correct_another_states_stream(api: Api, name: str) -> None:
    compact = next(e for e in api.log.envelopes if e.stream_id == "state:NPL")

    code, _, _ = _answer(api, name, "member_state", streamId="state:NPL", eventId=compact.event_id)

    assert code in REFUSED


# --- those who submit nothing ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_the_public_and_oversight_bodies_are_refused_before_the_broker(api: Api, name: str) -> None:
    sent, sealed = len(api.submitter.sent), len(api.submitter.sealed)
    kind = _input_type(name)
    variables = {"id": "1"} if kind is None else {"i": _input(name, caseId="PAK-1")}

    public = api.ask(_document(name), "public", **variables)
    oversight = api.ask(_document(name), "oversight", **variables)

    assert code_of(public) == "UNAUTHENTICATED"
    if name == "replayDeadLetter":  # an operation on the read models, not a command
        assert code_of(oversight) == "NOT_FOUND"
    else:
        assert code_of(oversight) == "FORBIDDEN"
    assert (len(api.submitter.sent), len(api.submitter.sealed)) == (sent, sealed)


# --- dead letters ----------------------------------------------------------------------------


def _letter(api: Api) -> int:
    envelope = next(e for e in api.log.envelopes if e.stream_id == "case:PAK-1")
    raw = next(r for _, _, r in api.log.records if envelope.event_id.encode() in r)
    letter = dead_letters.NewLetter(
        projection="case_history", partition=0, offset=10_000, scope="case:PAK-1",
        kind=dead_letters.LetterKind.FAILED, reason="a test", record=raw,
        stream_id="case:PAK-1", event_id=envelope.event_id, event_type=envelope.type,
        sequence=envelope.sequence,
    )  # fmt: skip
    with api.engine.begin() as conn:
        dead_letters.record_letters(conn, [letter], datetime.now(UTC))
        found = conn.execute(select(dead_letters.dead_letters.c.letter_id)).scalars().all()
    return int(max(found))


def _entries(api: Api, after: int) -> list[tuple[str, str, str, list[str]]]:
    c = access_log.c
    with api.engine.connect() as conn:
        rows = conn.execute(
            select(c.role, c.action, c.outcome, c.ids)
            .where(c.entry_id > after)
            .order_by(c.entry_id)
        ).all()
    return [(role, action, outcome, json.loads(ids)) for role, action, outcome, ids in rows]


def test_dead_letters_are_read_and_replayed_by_un_wide_roles_only_and_on_record(api: Api) -> None:
    letter_id = _letter(api)
    with api.engine.connect() as conn:
        before = int(conn.execute(select(access_log.c.entry_id).order_by(
            access_log.c.entry_id.desc())).scalars().first() or 0)  # fmt: skip
    listing = "{ deadLetters(first: 5) { edges { node { id streamId record } } } }"
    replay = "mutation($id: ID!) { replayDeadLetter(id: $id) { scope replayed } }"

    refused = [
        code_of(api.ask(listing, "member_state")),
        code_of(api.ask(replay, "member_state", id=str(letter_id))),
    ]
    listed = api.ask(listing, "oversight")
    replayed = api.ask(replay, "oversight", id=str(letter_id))

    assert refused == ["FORBIDDEN", "FORBIDDEN"]
    assert "errors" not in listed, listed
    assert replayed["data"]["replayDeadLetter"] == {"scope": "case:PAK-1",
                                                    "replayed": [str(letter_id)]}  # fmt: skip
    assert _entries(api, before) == [
        ("member_state", "query.deadLetters", "denied", []),
        ("member_state", "mutation.replayDeadLetter", "denied", []),
        ("oversight", "query.deadLetters", "read", ["case:PAK-1"]),
        ("oversight", "mutation.replayDeadLetter", "done", [f"dead-letter:{letter_id}",
                                                            "case:PAK-1"]),
    ]  # fmt: skip
