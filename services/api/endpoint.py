"""GraphQL over HTTP at ``/graphql``: POST JSON, GET for queries and for GraphiQL.

Every failure is an answer with a clear message and an ``extensions.code``: bad
JSON and invalid documents get 400, a bad credential 401, an oversized body 413.
An unexpected error inside a resolver is logged and reported as INTERNAL_ERROR
without its details; the server never answers with a bare 500.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from inspect import isawaitable
from pathlib import Path
from typing import Any, Final

import graphene
from graphql.error import GraphQLSyntaxError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from accountability.events.commands import Actor
from accountability.events.policy import DeadlinePolicy
from accountability.graphql.context import Reader, RequestContext, Submitter, current_actor
from accountability.graphql.errors import ApiError
from accountability.services import credentials
from graphql import (
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 1024 * 1024
GRAPHIQL_PAGE: Final = Path(__file__).with_name("graphiql.html")


def error_response(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


class RequestError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, self.code)


class GraphQLEndpoint:
    def __init__(
        self,
        *,
        schema: graphene.Schema,
        engine: Engine,
        reader: Reader,
        submitter: Submitter,
        policy: DeadlinePolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._schema = schema
        self._engine = engine
        self._context = RequestContext(reader, submitter, policy, clock)
        self._clock = clock

    async def handle(self, request: Request) -> Response:
        try:
            if request.method == "GET" and _wants_html(request):
                return HTMLResponse(GRAPHIQL_PAGE.read_text(encoding="utf-8"))
            actor = await self._authenticate(request)
            query, variables, operation = await _read_request(request)
            return await self._execute(request, actor, query, variables, operation)
        except RequestError as exc:
            return exc.response()

    async def _authenticate(self, request: Request) -> Actor | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise RequestError(
                401, "the Authorization header must read 'Bearer <credential>'", "UNAUTHENTICATED"
            )
        principal = await run_in_threadpool(self._lookup, token.strip())
        if principal is None:
            raise RequestError(
                401, "the credential is unknown, expired or revoked", "UNAUTHENTICATED"
            )
        return principal

    def _lookup(self, token: str) -> Actor | None:
        with self._engine.connect() as conn:
            principal = credentials.authenticate(conn, token, self._clock())
        if principal is None:
            return None
        return Actor(principal.principal_id, principal.role, principal.member_state)

    async def _execute(
        self,
        request: Request,
        actor: Actor | None,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
    ) -> Response:
        try:
            document = parse(query)
        except GraphQLSyntaxError as exc:
            raise RequestError(400, exc.message, "GRAPHQL_PARSE_FAILED") from None
        errors = validate(self._schema.graphql_schema, document)
        if errors:
            return JSONResponse(
                {"errors": [_format(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]}, 400
            )
        chosen = get_operation_ast(document, operation)
        if chosen is None:
            raise RequestError(400, "name the operation to run with operationName", "BAD_REQUEST")
        if request.method == "GET" and chosen.operation is not OperationType.QUERY:
            raise RequestError(405, "mutations are sent with POST", "METHOD_NOT_ALLOWED")
        token = current_actor.set(actor)
        try:
            outcome = execute(
                self._schema.graphql_schema,
                document,
                variable_values=variables,
                operation_name=operation,
                context_value=self._context,
            )
            result = await outcome if isawaitable(outcome) else outcome
        finally:
            current_actor.reset(token)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_format(e) for e in result.errors]
        # A document that validated was executed: field errors are reported in the body
        # with 200, as GraphQL over HTTP has it for application/json.
        return JSONResponse(body, 200)


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
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise RequestError(413, f"the body exceeds {MAX_BODY_BYTES} bytes", "PAYLOAD_TOO_LARGE")
    return bytes(body)


def _json(raw: bytes | str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"{what} is not valid JSON: {exc}", "BAD_REQUEST") from None


def _format(error: GraphQLError, default_code: str | None = None) -> dict[str, Any]:
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
