"""GraphQL over HTTP at ``/graphql``: POST JSON, GET for queries and for GraphiQL.

Every failure is an answer with a clear message and an ``extensions.code``: bad
JSON, invalid documents and documents over the limits (``graphql/limits.py``) get
400, a bad credential 401, an oversized body 413. An unexpected error inside a
resolver is logged and reported as INTERNAL_ERROR without its details; the server
never answers with a bare 500.

Every operation runs with the access middleware (``graphql/access.py``), and what it
read of confidential records is written to the access log before the answer is
sent; a read that cannot be recorded is not answered (503 ACCESS_LOG_UNAVAILABLE).
Subscriptions are served over WebSocket at the same path (``websocket.py``), with the
same checks.
"""

import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from inspect import isawaitable
from pathlib import Path
from typing import Any, Final

import graphene
from graphql.error import GraphQLSyntaxError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from accountability.events.commands import Actor
from accountability.events.policy import DeadlinePolicy
from accountability.graphql import limits
from accountability.graphql.access import MIDDLEWARE
from accountability.graphql.access_reads import AccessContext
from accountability.graphql.context import Reader, Submitter, current_actor
from accountability.graphql.errors import ApiError
from accountability.services import credentials
from accountability.services.access_log import AccessLog, AccessLogUnavailable
from accountability.services.metrics import freshness
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = limits.MAX_BODY_BYTES
GRAPHIQL_PAGE: Final = Path(__file__).with_name("graphiql.html")
BAD_CREDENTIAL: Final = "the credential is unknown, expired or revoked"
DOCUMENTS_KEPT: Final = 512
"""Parsed documents kept per API process, the least recently used dropped first."""


def _invalid(errors: list[GraphQLError]) -> "RequestError":
    formatted = [format_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]
    first = formatted[0]
    return RequestError(400, first["message"], first["extensions"]["code"], formatted)


def error_response(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


class RequestError(Exception):
    def __init__(
        self, status: int, message: str, code: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.errors = errors or [{"message": message, "extensions": {"code": code}}]

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": self.errors}, self.status)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document that parsed, validated and is within the limits."""

    document: DocumentNode
    operation: OperationDefinitionNode


class GraphQLEndpoint:
    def __init__(
        self,
        *,
        schema: graphene.Schema,
        engine: Engine,
        reader: Reader,
        submitter: Submitter,
        policy: DeadlinePolicy,
        access_log: AccessLog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.schema = schema.graphql_schema
        self.access_log = access_log
        self.middleware = [MIDDLEWARE]
        self._engine = engine
        self._reader, self._submitter, self._policy = reader, submitter, policy
        self._clock = clock
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def context(self) -> AccessContext:
        """A fresh context for one operation: it collects what the operation reads."""
        return AccessContext(
            self._reader, self._submitter, self._policy, self._clock, access_log=self.access_log
        )

    async def handle(self, request: Request) -> Response:
        try:
            if request.method == "GET" and _wants_html(request):
                return HTMLResponse(GRAPHIQL_PAGE.read_text(encoding="utf-8"))
            actor = await self._authenticate(request)
            query, variables, operation = await _read_request(request)
            prepared = self.prepare(query, variables, operation)
            kind = prepared.operation.operation
            if request.method == "GET" and kind is not OperationType.QUERY:
                raise RequestError(405, "mutations are sent with POST", "METHOD_NOT_ALLOWED")
            if kind is OperationType.SUBSCRIPTION:
                raise RequestError(
                    400,
                    "subscriptions are served over WebSocket at /graphql "
                    "(protocol graphql-transport-ws)",
                    "SUBSCRIPTION_NEEDS_WEBSOCKET",
                )
            result = await self.execute(actor, prepared, variables, operation)
        except RequestError as exc:
            return exc.response()
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        body["extensions"] = {"freshness": await self._reader.read(freshness)}
        request.state.graphql_operation = kind.value  # labels the latency metric
        # A document that validated was executed: field errors are reported in the body
        # with 200, as GraphQL over HTTP has it for application/json.
        return JSONResponse(body, 200)

    async def _authenticate(self, request: Request) -> Actor | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise RequestError(
                401, "the Authorization header must read 'Bearer <credential>'", "UNAUTHENTICATED"
            )
        principal = await self.authenticate(token.strip())
        if principal is None:
            raise RequestError(401, BAD_CREDENTIAL, "UNAUTHENTICATED")
        return principal

    async def authenticate(self, token: str) -> Actor | None:
        """The principal a token names now; never cached, so revocation acts at once."""
        return await run_in_threadpool(self._lookup, token)

    def _lookup(self, token: str) -> Actor | None:
        with self._engine.connect() as conn:
            principal = credentials.authenticate(conn, token, self._clock())
        if principal is None:
            return None
        return Actor(principal.principal_id, principal.role, principal.member_state)

    def prepare(
        self, query: str, variables: dict[str, Any] | None, operation: str | None
    ) -> Prepared:
        """Parse and validate ``query`` within the limits; RequestError (400) otherwise.

        A document that passed the specification's rules is kept (the last
        ``DOCUMENTS_KEPT``), so that a client repeating a query, as every client does,
        pays only for the limits, which depend on its variables.
        """
        document = self._documents.get(query)
        if document is None:
            try:
                limits.check_tokens(query)
            except limits.LimitExceeded as exc:
                raise RequestError(400, exc.message, exc.code) from None
            try:
                document = parse(query)
            except GraphQLSyntaxError as exc:
                raise RequestError(400, exc.message, "GRAPHQL_PARSE_FAILED") from None
            rules = [*specified_rules, *limits.rules(variables)]
            errors = validate(self.schema, document, rules)
            if errors:
                raise _invalid(errors)
            self._keep(query, document)
        else:
            self._documents.move_to_end(query)
            errors = validate(self.schema, document, limits.rules(variables))
            if errors:
                raise _invalid(errors)
        chosen = get_operation_ast(document, operation)
        if chosen is None:
            message = (
                "name the operation to run with operationName"
                if operation is None
                else f"the document has no operation named {operation!r}"
            )
            raise RequestError(400, message, "BAD_REQUEST")
        return Prepared(document, chosen)

    def _keep(self, query: str, document: DocumentNode) -> None:
        """Remember a document that passed the specification's rules (the limits too)."""
        self._documents[query] = document
        while len(self._documents) > DOCUMENTS_KEPT:
            self._documents.popitem(last=False)

    async def execute(
        self,
        actor: Actor | None,
        prepared: Prepared,
        variables: dict[str, Any] | None,
        operation: str | None,
    ) -> ExecutionResult:
        """Run a query or mutation as ``actor`` and record what it read, then answer."""
        context = self.context()
        token = current_actor.set(actor)
        try:
            outcome = execute(
                self.schema,
                prepared.document,
                variable_values=variables,
                operation_name=operation,
                context_value=context,
                middleware=self.middleware,
            )
            result = await outcome if isawaitable(outcome) else outcome
        finally:
            current_actor.reset(token)
        await self.record(actor, context)
        return result

    async def record(self, actor: Actor | None, context: AccessContext) -> None:
        """Write what ``context`` read to the access log; RequestError 503 when it cannot."""
        reads, context.reads[:] = list(context.reads), []
        try:
            await self.access_log.record(actor, reads)
        except AccessLogUnavailable:
            raise RequestError(
                503,
                "the access log cannot be written, so confidential reads are not answered; "
                "try again shortly",
                "ACCESS_LOG_UNAVAILABLE",
            ) from None


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


async def _read_request(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    if request.method == "GET":
        params = request.query_params
        variables = params.get("variables")
        payload: Any = {
            "query": params.get("query"),
            "variables": _json(variables, "variables") if variables else None,
            "operationName": params.get("operationName"),
        }
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/json":
            raise RequestError(
                415, "send the request as application/json", "UNSUPPORTED_MEDIA_TYPE"
            )
        payload = _json(await _read_body(request), "the request body")
    return read_payload(payload)


def read_payload(payload: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    """The query, variables and operation name of a GraphQL request's JSON object."""
    if not isinstance(payload, dict):
        raise RequestError(400, "the request body must be a JSON object", "BAD_REQUEST")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "the request has no GraphQL 'query' string", "BAD_REQUEST")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "'variables' must be a JSON object", "BAD_REQUEST")
    operation = payload.get("operationName")
    if operation is not None and not isinstance(operation, str):
        raise RequestError(400, "'operationName' must be a string", "BAD_REQUEST")
    return query, variables, operation


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestError(413, f"the body exceeds {MAX_BODY_BYTES} bytes", "PAYLOAD_TOO_LARGE")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                raise RequestError(
                    413, f"the body exceeds {MAX_BODY_BYTES} bytes", "PAYLOAD_TOO_LARGE"
                )
    except ClientDisconnect:
        # Nobody is left to answer; nothing was read, so nothing was done.
        raise RequestError(400, "the client left before sending its body", "CLIENT_LEFT") from None
    return bytes(body)


def _json(raw: bytes | str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"{what} is not valid JSON: {exc}", "BAD_REQUEST") from None


def format_error(error: GraphQLError, default_code: str | None = None) -> dict[str, Any]:
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        log.error("unexpected error in %s", error.path, exc_info=original)
        masked = GraphQLError(
            "internal error; it has been logged",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR"},
        )
        return masked.formatted  # type: ignore[return-value]
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if isinstance(original, ApiError):
        extensions.update(original.extensions or {})
    extensions.setdefault("code", default_code or "BAD_USER_INPUT")
    formatted["extensions"] = extensions
    return formatted
