"""Run the worker process: schema and topics first, then the Faust worker until stopped."""

import logging
import os
from pathlib import Path

import faust

from accountability.services import db, metrics
from accountability.services.kafka import ensure_topics
from accountability.services.settings import Settings

from .app import create_app

log = logging.getLogger(__name__)


def ready_file(settings: Settings, pid: int) -> Path:
    """Touched by the worker once it owns partitions; the supervisor waits for it."""
    return settings.data_dir / "run" / f"worker-{pid}.ready"


def run_worker(settings: Settings) -> None:
    engine = db.create(settings.database_url)
    db.create_schema(engine)
    metrics.create_tables(engine)
    ensure_topics(settings)
    app = create_app(settings, engine)
    marker = ready_file(settings, os.getpid())
    marker.parent.mkdir(parents=True, exist_ok=True)

    @app.on_partitions_assigned.connect
    async def mark_ready(
        sender: object, /, *args: object, signal: object, **kwargs: object
    ) -> None:
        marker.touch()

    worker = faust.Worker(
        app,
        loglevel=settings.log_level.upper(),
        quiet=True,
        redirect_stdouts=False,
    )
    try:
        worker.execute_from_commandline()
    finally:
        marker.unlink(missing_ok=True)
        engine.dispose()
