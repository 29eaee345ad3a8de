"""The Starlette application: routes, lifespan, and where errors become responses."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from accountability.events.policy import DEFAULT_POLICY
from accountability.graphql.schema import build_schema
from accountability.services import db
from accountability.services.access_log import AccessLog
from accountability.services.metrics import ApiMetrics
from accountability.services.settings import Settings

from .bus import CommandBus
from .endpoint import GraphQLEndpoint, error_response
from .operations import OperationsReader
from .submit import CommandService
from .websocket import GraphQLWebSocket

log = logging.getLogger(__name__)

STATIC: Final = Path(__file__).with_name("static") / "graphiql"


def create_app(settings: Settings) -> Starlette:
    """The API application; it connects to the database and the broker when it starts."""
    engine = db.create(settings.database_url, writer=False)
    bus = CommandBus(settings)
    service = CommandService(bus, engine, settings)
    api_metrics = ApiMetrics(engine, settings.topic_partitions)
    access_log = AccessLog(db.create(settings.database_url))
    graphql = GraphQLEndpoint(
        schema=build_schema(),
        engine=engine,
        reader=OperationsReader(engine, settings),
        submitter=service,
        policy=DEFAULT_POLICY,
        access_log=access_log,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        db.create_schema(engine)  # idempotent; the API may start before any worker
        bus.start()  # already started by `accountability api`, which reports a failure plainly
        log.info("API ready: GraphQL at http://%s:%d/graphql", settings.api_host, settings.api_port)
        try:
            yield
        finally:
            bus.stop()
            access_log.close()
            engine.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        problems = []
        try:
            db.ping(engine)
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        if not bus.listening:
            problems.append("broker: not reading command results")
        elif (
            unreachable := await broker_unreachable(settings.kafka_bootstrap_servers)
        ) is not None:
            problems.append(f"broker: {unreachable}")
        if problems:
            return JSONResponse({"status": "unavailable", "problems": problems}, 503)
        return JSONResponse({"status": "ready"})

    async def root(_request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def http_error(_request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        return error_response(status, str(detail), f"HTTP_{status}")

    app = Starlette(
        routes=[
            Route("/", root),
            Route("/graphql", graphql.handle, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", GraphQLWebSocket(graphql).handle),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", api_metrics.endpoint),
            Mount("/static/graphiql", StaticFiles(directory=STATIC), name="graphiql"),
        ],
        lifespan=lifespan,
        middleware=[api_metrics.middleware()],
        exception_handlers={HTTPException: http_error, 500: http_error},
    )
    app.state.bus = bus
    return app


async def broker_unreachable(servers: str, timeout: float = 1.0) -> str | None:
    """Why no bootstrap server accepts a connection, or None once one does.

    The command-result reader keeps retrying quietly while the broker is away, so
    readiness asks the broker itself: a mutation now would fail with BROKER_UNAVAILABLE.
    """
    failures = []
    for server in (s.strip() for s in servers.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host.strip("[]"), int(port)), timeout
            )
        except (OSError, TimeoutError, ValueError) as exc:
            failures.append(f"{server} ({type(exc).__name__})")
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return None
    return "cannot connect to " + ", ".join(failures)
