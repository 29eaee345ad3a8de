"""The limits on a GraphQL document: depth, introspection nesting, cost and length."""

import time
from typing import Any

import pytest

from accountability.events.policy import DEFAULT_POLICY
from accountability.graphql import limits
from accountability.graphql.schema import build_schema
from accountability.services.api.endpoint import GraphQLEndpoint, RequestError
from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    get_introspection_query,
    get_named_type,
    parse,
    specified_rules,
    validate,
)

SCHEMA = build_schema().graphql_schema


def codes(query: str, variables: dict[str, Any] | None = None) -> list[str]:
    errors = validate(SCHEMA, parse(query), [*specified_rules, *limits.rules(variables)])
    return [str((e.extensions or {}).get("code", e.message)) for e in errors]


def every_field(type_name: str, depth: int = 0) -> str:
    """A selection of every field of a type reachable without required arguments."""
    parts = []
    kind = SCHEMA.get_type(type_name)
    assert isinstance(kind, GraphQLObjectType)
    for name, field in kind.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            parts.append(f"{name} {{ {every_field(named.name, depth + 1)} }}")
        elif not hasattr(named, "fields"):
            parts.append(name)
    return " ".join(parts)


def graphiql_introspection() -> str:
    """GraphiQL 3.8's introspection query nests ofType nine times, graphql-core's seven."""
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    inner = "kind name"
    for _ in range(9):
        inner = f"kind name ofType {{ {inner} }}"
    start = query.index("fragment TypeRef on __Type")
    return query[:start] + f"fragment TypeRef on __Type {{ {inner} }}"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(get_introspection_query(descriptions=True), id="introspection"),
        pytest.param(graphiql_introspection(), id="graphiql-introspection"),
        pytest.param("{ countries(first: 100) { edges { cursor rank node { "
                     f"{every_field('CountryRecord')} }} }} }} }}", id="full-country-page"),
        pytest.param('{ case(id: "C-1") { ' + every_field("CaseFile") + " } }", id="full-case"),
        pytest.param('{ auditTrail(streamId: "case:C-1", first: 500) { edges { node { '
                     + every_field("AuditEntry") + " } } } }", id="full-audit-page"),
        pytest.param("{ statistics(year: 2024) { " + every_field("Statistics") + " } "
                     'country(code: "PAK") { code } deadlinePolicies { label } }',
                     id="several-root-fields"),
    ],
)  # fmt: skip
def test_what_clients_really_ask_is_within_the_limits(query: str) -> None:
    assert codes(query) == []


def test_a_query_deeper_than_the_limit_is_refused() -> None:
    nested = "name"
    for _ in range(limits.MAX_DEPTH):
        nested = f"ofType {{ {nested} }}"

    assert codes(f'{{ __type(name: "Query") {{ {nested} }} }}') == ["QUERY_TOO_DEEP"]


def test_depth_follows_fragments() -> None:
    nested = "name"
    for _ in range(limits.MAX_DEPTH - 3):
        nested = f"ofType {{ {nested} }}"
    query = (
        f'{{ __type(name: "Query") {{ ...A }} }} fragment A on __Type {{ ofType {{ ...B }} }} '
        f"fragment B on __Type {{ ofType {{ {nested} }} }}"
    )

    assert codes(query) == ["QUERY_TOO_DEEP"]


def test_introspection_may_not_loop_through_fields_and_types() -> None:
    query = "{ __schema { types { fields { type { fields { name } } } } } }"

    assert codes(query) == ["QUERY_TOO_DEEP"]


def test_many_aliases_of_an_expensive_read_are_too_costly() -> None:
    aliases = " ".join(f"c{n}: countries(first: 1) {{ edges {{ cursor }} }}" for n in range(40))

    assert codes(f"{{ {aliases} }}") == ["QUERY_TOO_COSTLY"]


def test_the_cost_reads_first_from_literals_variables_and_defaults() -> None:
    page = "edges { node { " + every_field("CountryRecord") + " } }"
    literal = f"{{ a: countries(first: 100) {{ {page} }} b: countries(first: 100) {{ {page} }} }}"
    query = f"query($n: Int = 10) {{ a: countries(first: $n) {{ {page} }} "
    query += f"b: countries(first: $n) {{ {page} }} }}"

    assert codes(literal) == []
    assert codes(query) == []
    assert codes(query, {"n": 100}) == []
    assert codes(literal.replace("b: countries(first: 100)", "b: countries(first: 300)")) == [
        "QUERY_TOO_COSTLY"
    ]


def test_a_fragment_bomb_is_measured_in_linear_time_and_refused() -> None:
    fragments = ["fragment F0 on CountryRecord { code name allegations }"]
    for n in range(1, 40):
        fragments.append(f"fragment F{n} on CountryRecord {{ ...F{n - 1} ...F{n - 1} }}")
    query = '{ country(code: "PAK") { ...F39 } } ' + " ".join(fragments)

    started = time.monotonic()
    found = validate(SCHEMA, parse(query), limits.rules())

    assert time.monotonic() - started < 1
    assert [e.extensions["code"] for e in found if e.extensions] == ["QUERY_TOO_COSTLY"]


def test_a_document_over_the_token_limit_is_refused_before_parsing() -> None:
    query = "{ " + " ".join("__typename" for _ in range(limits.MAX_TOKENS)) + " }"

    with pytest.raises(limits.LimitExceeded) as refused:
        limits.check_tokens(query)

    assert refused.value.code == "QUERY_TOO_LARGE"
    limits.check_tokens("{ country(code: ")  # a syntax error is the parser's to report
    limits.check_tokens(get_introspection_query(descriptions=True))


def test_a_kept_document_is_held_to_the_limits_of_each_request() -> None:
    unused: Any = None  # preparing a document reads no database, bus or log
    endpoint = GraphQLEndpoint(
        schema=build_schema(), engine=unused, reader=unused, submitter=unused,
        policy=DEFAULT_POLICY, access_log=unused,
    )  # fmt: skip
    page = "edges { node { " + every_field("CountryRecord") + " } }"
    query = f"query($n: Int) {{ a: countries(first: $n) {{ {page} }} "
    query += f"b: countries(first: $n) {{ {page} }} }}"

    first = endpoint.prepare(query, {"n": 10}, None)
    again = endpoint.prepare(query, {"n": 10}, None)
    with pytest.raises(RequestError) as refused:
        endpoint.prepare(query, {"n": 300}, None)

    assert again.document is first.document  # parsed and checked once
    assert refused.value.code == "QUERY_TOO_COSTLY"
    with pytest.raises(RequestError) as invalid:
        endpoint.prepare("{ country { code } }", None, None)
    assert invalid.value.code == "GRAPHQL_VALIDATION_FAILED"
