"""The API over real HTTP and WebSocket (uvicorn in a thread) on a real SQLite database,
with the pure decider standing in for the broker and worker: the harness of the
access-control tests.
"""

import json
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from accountability.events import commands as c
from accountability.events.commands import Command, CommandEnvelope
from accountability.events.decider import decide, initial_state
from accountability.events.errors import Rejection
from accountability.events.policy import DEFAULT_POLICY
from accountability.events.privacy import CaseKey, SealedText, seal_text
from accountability.events.signing import Signature
from accountability.events.types import CommandId, CountryCode
from accountability.events.vocabulary import Role
from accountability.graphql.context import Accepted, Rejected, SubmitOutcome, current_actor
from accountability.graphql.schema import build_schema
from accountability.projections import dead_letters
from accountability.projections.replay import ReplayReport
from accountability.services import credentials, db
from accountability.services.access_log import AccessLog
from accountability.services.api.endpoint import GraphQLEndpoint
from accountability.services.api.submit import SqlReader
from accountability.services.api.websocket import GraphQLWebSocket

from .domain import Log, command
from .net import free_port
from .read_models import apply

ROLES = ("public", "officer", "member_state", "oversight")

# --- the API under test -----------------------------------------------------------------


class DeciderSubmitter:
    """Decides commands with the pure decider against the test log; records nothing."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.sent: list[CommandEnvelope] = []
        self.sealed: list[str] = []

    async def submit(
        self,
        command: Command,
        *,
        command_id: str | None,
        occurred_at: datetime | None,
        correlation_id: str | None,
        signature: Signature | None = None,
    ) -> SubmitOutcome:
        actor = current_actor.get()
        if actor is None:
            raise AssertionError("a command reached the submitter without a principal")
        now = datetime.now(UTC)
        cid = CommandId(command_id or "cmd")
        envelope = CommandEnvelope(cid, cid, actor, now, occurred_at or now, command, signature)
        self.sent.append(envelope)
        state = self.log.states.get(envelope.stream_id) or initial_state(envelope.stream_id)
        try:
            decide(state, envelope, now)
        except Rejection as rejected:
            return Rejected(cid, envelope.stream_id, rejected.detail)
        return Accepted(cid, envelope.stream_id, [], True)

    async def seal_text(self, case_id: str, text: str) -> SealedText:
        """A stand-in seal: these tests are about access, not about the key store."""
        self.sealed.append(case_id)
        return seal_text(text, CaseKey("0123456789abcdef", b"k" * 32), case_id, b"n" * 12)


class Desk(SqlReader):
    """The API's reader, with a stand-in replay of dead letters that only reports."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.replayed: list[int] = []

    async def replay_dead_letter(self, letter_id: int) -> ReplayReport | None:
        letter = await self.read(lambda conn: dead_letters.get_letter(conn, letter_id))
        if letter is None:
            return None
        self.replayed.append(letter_id)
        return ReplayReport(letter.projection, letter.scope, [letter_id])


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Api:
    url: str
    engine: Engine
    log: Log
    submitter: DeciderSubmitter
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)

    def post(self, query: str, role: str = "public", **variables: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role != "public" else {}
        body = {"query": query, "variables": variables}
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30)

    def ask(self, query: str, role: str = "public", **variables: Any) -> dict[str, Any]:
        response = self.post(query, role, **variables)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def issue(self, role: Role, member_state: str | None = None, **kw: Any) -> tuple[str, str]:
        with self.engine.begin() as conn:
            principal = credentials.ensure_principal(
                conn, principal_id=f"{role.value}-{member_state or 'un'}", name="test",
                role=role, member_state=member_state, now=datetime.now(UTC),
            )  # fmt: skip
            issued = credentials.issue(conn, principal, "test", kw.pop("now", datetime.now(UTC)),
                                       **kw)  # fmt: skip
        return issued.credential_id, issued.token

    def apply(self, *commands: CommandEnvelope) -> None:
        before = len(self.log.records)
        for envelope in commands:
            self.log.submit(envelope)
        apply(self.engine, self.log.records[before:])

    def socket(self, role: str = "public", protocol: str = "graphql-transport-ws") -> "Socket":
        return Socket(self, role, protocol)


def ws_connect(url: str, *protocols: str) -> ClientConnection:
    offered = [Subprotocol(p) for p in protocols] or None
    return connect(url, subprotocols=offered, legacy=True)


class Socket:
    """A graphql-transport-ws (or graphql-ws) client over a real WebSocket."""

    def __init__(self, api: Api, role: str, protocol: str) -> None:
        url = api.url.replace("http://", "ws://") + "/graphql"
        self.ws = ws_connect(url, protocol)
        payload = {"Authorization": f"Bearer {api.tokens[role]}"} if role != "public" else {}
        self.send({"type": "connection_init", "payload": payload})

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = 5) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return found

    def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        self.send({"type": "subscribe", "id": op_id,
                   "payload": {"query": query, "variables": variables}})  # fmt: skip

    def close(self) -> None:
        self.ws.close()


class Served:
    """The app on a real uvicorn server in a thread."""

    def __init__(self, app: Starlette) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def demo_log() -> Log:
    """Five cases, three of them Pakistan's and two Nepal's, and Nepal's Compact."""
    log = Log()
    for case_id, nationality in [("PAK-1", "PAK"), ("NPL-1", "NPL"), ("PAK-2", "PAK"),
                                 ("NPL-2", "NPL"), ("PAK-3", "PAK")]:  # fmt: skip
        log.case(case_id, nationality, reply_after=None)
    log.submit(command(c.SignVoluntaryCompact(CountryCode("NPL"))))
    return log


def build_api(tmp: Path, *, access_engine: Engine | None = None) -> Generator[Api, None, None]:
    url = f"sqlite:///{tmp / 'api.db'}"
    engine = db.create(url)
    db.create_schema(engine)
    log = demo_log()
    apply(engine, log.records)
    clock = Clock()
    submitter = DeciderSubmitter(log)
    endpoint = GraphQLEndpoint(
        schema=build_schema(), engine=engine, reader=Desk(engine), submitter=submitter,
        policy=DEFAULT_POLICY, access_log=AccessLog(access_engine or db.create(url)), clock=clock,
    )  # fmt: skip
    app = Starlette(routes=[
        Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", GraphQLWebSocket(endpoint, credential_check=0.2).handle),
    ])  # fmt: skip
    with Served(app) as base:
        api = Api(base, engine, log, submitter, clock)
        api.tokens["officer"] = api.issue(Role.OFFICER)[1]
        api.tokens["member_state"] = api.issue(Role.MEMBER_STATE, "PAK")[1]
        api.tokens["oversight"] = api.issue(Role.OVERSIGHT)[1]
        yield api
    endpoint.access_log.close()
    engine.dispose()


def code_of(answer: dict[str, Any]) -> str:
    """'ok', a Rejected's code (for mutations), or the first error's code."""
    if answer.get("errors"):
        return str(answer["errors"][0]["extensions"]["code"])
    data = answer["data"]
    outcome = next(iter(data.values())) if data else None
    if isinstance(outcome, dict) and outcome.get("__typename") == "Rejected":
        return f"Rejected:{outcome['code']}"
    return "ok"
