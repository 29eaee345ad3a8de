"""GraphQL over WebSocket at ``/graphql``: subscriptions, and single results too.

Both subprotocols are spoken, chosen by ``Sec-WebSocket-Protocol``:
``graphql-transport-ws`` (the current one) and the legacy ``graphql-ws`` of
subscriptions-transport-ws. The credential travels in ``connection_init``'s payload,
``{"Authorization": "Bearer acct_…"}``; without one the socket is the public's.

Every document goes through the HTTP endpoint's limits and the access middleware,
and every event sent is recorded in the access log first. The credential is looked
up again before each message sent and every ``CREDENTIAL_CHECK_SECONDS``: once it has
expired or been revoked, each subscription ends with an UNAUTHENTICATED error and the
socket closes with 4403.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Final

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from accountability.events.commands import Actor
from accountability.graphql import subscriptions
from accountability.graphql.context import current_actor
from graphql import ExecutionResult, OperationType

from .endpoint import BAD_CREDENTIAL, GraphQLEndpoint, RequestError, format_error, read_payload

log = logging.getLogger(__name__)

TRANSPORT_WS: Final = "graphql-transport-ws"
LEGACY_WS: Final = "graphql-ws"
INIT_TIMEOUT_SECONDS: Final = 10.0
CREDENTIAL_CHECK_SECONDS: Final = 1.0
MAX_SUBSCRIPTIONS: Final = 20
MAX_MESSAGE_BYTES: Final = 1024 * 1024

GONE: Final = "the credential expired or was revoked"


class _Closed(Exception):
    """The socket is closed, or being closed: stop serving it."""


class GraphQLWebSocket:
    def __init__(
        self,
        endpoint: GraphQLEndpoint,
        *,
        init_timeout: float = INIT_TIMEOUT_SECONDS,
        credential_check: float = CREDENTIAL_CHECK_SECONDS,
    ) -> None:
        self.endpoint = endpoint
        self.init_timeout = init_timeout
        self.credential_check = credential_check

    async def handle(self, websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        protocol = next((p for p in (TRANSPORT_WS, LEGACY_WS) if p in offered), None)
        if protocol is None:
            await websocket.accept()
            await websocket.close(4406, f"Subprotocol not acceptable: use {TRANSPORT_WS}")
            return
        await websocket.accept(subprotocol=protocol)
        await _Connection(self, websocket, legacy=protocol == LEGACY_WS).run()


class _Connection:
    def __init__(self, server: GraphQLWebSocket, websocket: WebSocket, *, legacy: bool) -> None:
        self.server, self.endpoint, self.websocket = server, server.endpoint, websocket
        self.legacy = legacy
        self.token: str | None = None
        self.actor: Actor | None = None
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.closing = False
        self.lock = asyncio.Lock()

    async def run(self) -> None:
        watcher: asyncio.Task[None] | None = None
        try:
            if not await self._initialise():
                return
            watcher = asyncio.create_task(self._watch_credential())
            while True:
                message = await self._receive()
                if message is None:
                    return
                await self._dispatch(message)
        except _Closed:
            return
        finally:
            for task in [*self.operations.values(), *([watcher] if watcher else [])]:
                task.cancel()

    # --- connection ------------------------------------------------------------------

    async def _initialise(self) -> bool:
        try:
            message = await asyncio.wait_for(self._receive(), self.server.init_timeout)
        except TimeoutError:
            await self._close(4408, "Connection initialisation timeout")
            return False
        if message is None:
            return False
        if message.get("type") != "connection_init":
            await self._close(4401, "Unauthorized: send connection_init first")
            return False
        payload = message.get("payload") or {}
        header = _authorization(payload) if isinstance(payload, dict) else None
        if header is not None:
            scheme, _, token = header.partition(" ")
            actor = None
            if scheme.lower() == "bearer" and token.strip():
                self.token = token.strip()
                actor = await self.endpoint.authenticate(self.token)
            if actor is None:
                if self.legacy:
                    await self._send(
                        {"type": "connection_error", "payload": {"message": BAD_CREDENTIAL}}
                    )
                await self._close(4403, f"Forbidden: {BAD_CREDENTIAL}")
                return False
            self.actor = actor
        current_actor.set(self.actor)  # the operations' tasks inherit it
        await self._send({"type": "connection_ack"})
        return True

    async def _receive(self) -> dict[str, Any] | None:
        try:
            message = await self.websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return None
        if message["type"] == "websocket.disconnect":
            return None
        raw = message.get("text") or message.get("bytes") or ""
        if len(raw) > MAX_MESSAGE_BYTES:
            await self._close(1009, f"Message too big: at most {MAX_MESSAGE_BYTES} bytes")
            raise _Closed
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            await self._close(4400, "Invalid message received: a JSON object with a type")
            raise _Closed
        return parsed

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await self._send({"type": "pong"})
        elif kind in ("pong", "ka"):
            return
        elif kind in ("subscribe", "start"):
            await self._start(message)
        elif kind in ("complete", "stop"):
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        elif kind == "connection_init":
            await self._close(4429, "Too many initialisation requests")
            raise _Closed
        elif kind == "connection_terminate":
            await self._close(1000, "Normal closure")
            raise _Closed
        else:
            await self._close(4400, f"Invalid message received: unknown type '{kind}'")
            raise _Closed

    async def _start(self, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        if not isinstance(op_id, str) or not op_id:
            await self._close(4400, "Invalid message received: an operation needs an id")
            raise _Closed
        if op_id in self.operations:
            await self._close(4409, f"Subscriber for {op_id} already exists")
            raise _Closed
        if len(self.operations) >= MAX_SUBSCRIPTIONS:
            await self._error(op_id, [_error(
                f"at most {MAX_SUBSCRIPTIONS} operations may run on one socket",
                "TOO_MANY_SUBSCRIPTIONS",
            )])  # fmt: skip
            return
        task = asyncio.create_task(self._operate(op_id, message.get("payload")))
        self.operations[op_id] = task
        task.add_done_callback(lambda _t: self.operations.pop(op_id, None))

    async def _watch_credential(self) -> None:
        while not self.closing:
            await asyncio.sleep(self.server.credential_check)
            if not await self._credential_valid():
                return

    async def _credential_valid(self) -> bool:
        """Whether the socket's credential still holds; if not, end everything on it."""
        if self.token is None:
            return True
        if await self.endpoint.authenticate(self.token) is not None:
            return True
        if not self.closing:
            self.closing = True
            gone = [_error(GONE, "UNAUTHENTICATED")]
            current = asyncio.current_task()
            for op_id, task in list(self.operations.items()):
                await self._error(op_id, gone, force=True)
                if task is not current:
                    task.cancel()
            await self._close(4403, f"Forbidden: {GONE}")
        return False

    # --- operations -------------------------------------------------------------------

    async def _operate(self, op_id: str, payload: Any) -> None:
        try:
            query, variables, name = read_payload(payload)
            prepared = self.endpoint.prepare(query, variables, name)
            if prepared.operation.operation is not OperationType.SUBSCRIPTION:
                result = await self.endpoint.execute(self.actor, prepared, variables, name)
                await self._next(op_id, result)
            else:
                await self._stream(op_id, prepared, variables, name)
            await self._send({"type": "complete", "id": op_id})
        except RequestError as exc:
            with contextlib.suppress(_Closed):
                await self._error(op_id, exc.errors)
        except _Closed:
            return
        except Exception:
            log.exception("operation %s failed", op_id)
            with contextlib.suppress(_Closed):
                internal = _error("internal error; it has been logged", "INTERNAL_ERROR")
                await self._error(op_id, [internal])

    async def _stream(
        self, op_id: str, prepared: Any, variables: dict[str, Any] | None, name: str | None
    ) -> None:
        endpoint = self.endpoint
        context = endpoint.context()
        stream = await subscriptions.subscribe(
            endpoint.schema, prepared.document, context=context, variables=variables,
            operation_name=name, middleware=endpoint.middleware,
        )  # fmt: skip
        await endpoint.record(self.actor, context)
        if isinstance(stream, ExecutionResult):
            errors = [format_error(e) for e in stream.errors or []]
            raise RequestError(400, errors[0]["message"], errors[0]["extensions"]["code"], errors)
        results: AsyncIterator[ExecutionResult] = stream
        try:
            async for result in results:
                if not await self._credential_valid():
                    raise _Closed
                await endpoint.record(self.actor, context)
                await self._next(op_id, result)
        finally:
            close = getattr(results, "aclose", None)
            if close is not None:
                await close()

    # --- sending ----------------------------------------------------------------------

    async def _next(self, op_id: str, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [format_error(e) for e in result.errors]
        await self._send({"type": "data" if self.legacy else "next", "id": op_id,
                          "payload": payload})  # fmt: skip

    async def _error(
        self, op_id: str, errors: list[dict[str, Any]], *, force: bool = False
    ) -> None:
        payload: Any = errors[0] if self.legacy else errors
        await self._send({"type": "error", "id": op_id, "payload": payload}, force=force)

    async def _send(self, message: dict[str, Any], *, force: bool = False) -> None:
        if self.closing and not force:
            raise _Closed
        async with self.lock:
            if self.websocket.application_state is not WebSocketState.CONNECTED:
                raise _Closed
            try:
                await self.websocket.send_text(json.dumps(message))
            except (WebSocketDisconnect, RuntimeError, OSError):
                raise _Closed from None

    async def _close(self, code: int, reason: str) -> None:
        self.closing = True
        async with self.lock:
            if self.websocket.application_state is WebSocketState.CONNECTED:
                try:
                    await self.websocket.close(code, reason[:120])
                except (RuntimeError, OSError):
                    log.debug("the socket was gone before it could be closed")


def _authorization(payload: dict[str, Any]) -> str | None:
    for key, value in payload.items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    headers = payload.get("headers")
    return _authorization(headers) if isinstance(headers, dict) else None


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}
