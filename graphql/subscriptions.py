"""Subscriptions: new events on a case or on a country, as the audit log records them.

The source polls the audit log read model every ``POLL_SECONDS`` for entries after
the last position it has seen: per stream for a case, per partition of the log for a
country (its own stream and the cases involving its nationals). Events recorded
before the subscription started are not sent; the audit trail has them.

graphql-core 3.2 runs no middleware around a subscription's source, so
:func:`subscribe` resolves the source through the access middleware itself, then
executes every event with it, as a query's fields are.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from functools import partial
from inspect import isawaitable
from typing import Any, Final

import graphene
from graphql.execution.collect_fields import collect_fields
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from sqlalchemy import Connection, and_, func, or_, select, true

from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX
from accountability.events.countries import COUNTRIES
from accountability.projections import audit_log as audit
from accountability.projections import case_file
from accountability.projections.paging import encode_cursor
from graphql import (
    DocumentNode,
    ExecutionContext,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    execute,
    located_error,
)

from .case_types import AuditEntry
from .context import Reader, RequestContext
from .errors import BadInput

POLL_SECONDS: Final = 0.2
BATCH: Final = 200

Marks = dict[int, int]
"""The last log offset seen, per partition."""


def _reader(info: Any) -> Reader:
    context = info.context
    if not isinstance(context, RequestContext):  # pragma: no cover - wiring error
        raise TypeError("the GraphQL context must be a RequestContext")
    return context.reader


class Subscription(graphene.ObjectType):
    case_events = graphene.Field(
        AuditEntry,
        required=True,
        case_id=graphene.ID(required=True),
        description="Each new event of a case, as the audit log records it.",
    )
    country_events = graphene.Field(
        AuditEntry,
        required=True,
        code=graphene.String(required=True, description="ISO 3166-1 alpha-3"),
        description="Each new event of a Member State's own stream and of the cases "
        "involving its nationals.",
    )

    @staticmethod
    def subscribe_case_events(root: None, info: Any, case_id: str) -> AsyncIterator[Any]:
        return case_events(_reader(info), f"{CASE_STREAM_PREFIX}{case_id}")

    @staticmethod
    def subscribe_country_events(root: None, info: Any, code: str) -> AsyncIterator[Any]:
        if code not in COUNTRIES:
            raise BadInput(
                f"unknown country code '{code}' (ISO 3166-1 alpha-3)",
                field="code",
                code="UNKNOWN_COUNTRY",
            )
        return country_events(_reader(info), code)

    @staticmethod
    def resolve_case_events(root: audit.AuditEntry, info: Any, case_id: str) -> audit.AuditEntry:
        return root

    @staticmethod
    def resolve_country_events(root: audit.AuditEntry, info: Any, code: str) -> audit.AuditEntry:
        return root


# --- sources --------------------------------------------------------------------------


def _head(conn: Connection, stream_id: str) -> int:
    c = audit.audit_log.c
    found = conn.execute(select(func.max(c.sequence)).where(c.stream_id == stream_id)).scalar()
    return int(found or 0)


def _after(conn: Connection, stream_id: str, sequence: int) -> list[audit.AuditEntry]:
    return audit.audit_trail(conn, stream_id, BATCH, encode_cursor(sequence)).items


async def case_events(reader: Reader, stream_id: str) -> AsyncIterator[audit.AuditEntry]:
    last = await reader.read(partial(_head, stream_id=stream_id))
    while True:
        await asyncio.sleep(POLL_SECONDS)
        for entry in await reader.read(partial(_after, stream_id=stream_id, sequence=last)):
            last = entry.sequence
            yield entry


def _marks(conn: Connection) -> Marks:
    c = audit.audit_log.c
    rows = conn.execute(select(c.partition, func.max(c.log_offset)).group_by(c.partition))
    return {int(partition): int(offset) for partition, offset in rows}


def _concerns(conn: Connection, stream_id: str, code: str) -> bool:
    if stream_id.startswith(STATE_STREAM_PREFIX):
        return stream_id == f"{STATE_STREAM_PREFIX}{code}"
    case_id = stream_id.removeprefix(CASE_STREAM_PREFIX)
    return stream_id.startswith(CASE_STREAM_PREFIX) and case_file.case_involves(conn, case_id, code)


def _new_for_country(
    conn: Connection, code: str, marks: Marks
) -> tuple[list[audit.AuditEntry], Marks]:
    c = audit.audit_log.c
    seen = [and_(c.partition == p, c.log_offset > offset) for p, offset in marks.items()]
    unseen = c.partition.notin_(list(marks)) if marks else true()
    rows = conn.execute(
        select(c.stream_id, c.sequence, c.partition, c.log_offset)
        .where(or_(*seen, unseen))
        .order_by(c.partition, c.log_offset)
        .limit(BATCH)
    ).all()
    moved = dict(marks)
    wanted: dict[str, set[int]] = {}
    concerns: dict[str, bool] = {}
    for stream_id, sequence, partition, offset in rows:
        moved[partition] = max(moved.get(partition, -1), offset)
        if stream_id not in concerns:
            concerns[stream_id] = _concerns(conn, stream_id, code)
        if concerns[stream_id]:
            wanted.setdefault(stream_id, set()).add(sequence)
    entries = [
        entry
        for stream_id, sequences in wanted.items()
        for entry in _after(conn, stream_id, min(sequences) - 1)
        if entry.sequence in sequences
    ]
    entries.sort(key=lambda e: (e.recorded_at, e.stream_id, e.sequence))
    return entries, moved


async def country_events(reader: Reader, code: str) -> AsyncIterator[audit.AuditEntry]:
    marks = await reader.read(_marks)
    while True:
        await asyncio.sleep(POLL_SECONDS)
        entries, marks = await reader.read(partial(_new_for_country, code=code, marks=marks))
        for entry in entries:
            yield entry


# --- execution ------------------------------------------------------------------------


async def subscribe(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    middleware: Sequence[Any],
) -> AsyncIterator[ExecutionResult] | ExecutionResult:
    """The results of a subscription, or an ExecutionResult with the errors that stop it."""
    built = ExecutionContext.build(
        schema, document, None, context, variables, operation_name, middleware=list(middleware)
    )
    if isinstance(built, list):
        return ExecutionResult(data=None, errors=built)
    try:
        source = await _source(built)
    except GraphQLError as error:
        return ExecutionResult(data=None, errors=[error])

    async def results() -> AsyncIterator[ExecutionResult]:
        try:
            async for payload in source:
                result = execute(
                    schema, document, payload, context, variables, operation_name,
                    middleware=list(middleware),
                )  # fmt: skip
                yield await result if isawaitable(result) else result
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()

    return results()


async def _source(context: ExecutionContext) -> AsyncIterator[Any]:
    """The root field's event stream, resolved through the middleware (unlike graphql-core)."""
    schema = context.schema
    root_type = schema.subscription_type
    if root_type is None:
        raise GraphQLError("the schema has no subscriptions", context.operation)
    fields = collect_fields(
        schema, context.fragments, context.variable_values, root_type,
        context.operation.selection_set,
    )  # fmt: skip
    response_name, nodes = next(iter(fields.items()))
    field_def = get_field_def(schema, root_type, nodes[0])
    if field_def is None or field_def.subscribe is None:
        raise GraphQLError(f"no subscription '{nodes[0].name.value}'", nodes)
    path = Path(None, response_name, root_type.name)
    info = context.build_resolve_info(field_def, nodes, root_type, path)
    try:
        args = get_argument_values(field_def, nodes[0], context.variable_values)
        resolve = field_def.subscribe
        if context.middleware_manager is not None:
            resolve = context.middleware_manager.get_field_resolver(resolve)
        stream = resolve(None, info, **args)
        if isawaitable(stream):
            stream = await stream
        if not isinstance(stream, AsyncIterator):
            raise TypeError(f"subscription {response_name} did not return an event stream")
        return stream
    except Exception as error:
        raise located_error(error, nodes, path.as_list()) from None
