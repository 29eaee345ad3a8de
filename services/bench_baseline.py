"""The benchmark's baseline: a Faust agent that applies each event and commits it alone.

This is how a projector is usually first written with Faust: one event, one
transaction. It runs as its own process (``python -m``) so that its Faust app has
the process to itself; it writes its timing to the file named on its command line,
and the benchmark stops it then.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any

import faust

from accountability.projections import all_projections
from accountability.projections.runner import apply_batch

from . import db
from .topics import EVENTS


def main(bootstrap: str, database_url: str, limit: int, report: Path) -> None:
    engine = db.create(database_url)
    db.create_schema(engine)
    projections = all_projections()
    app = faust.App(
        f"accountability-bench-baseline-{time.time_ns()}",
        broker=f"kafka://{bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        topic_allow_declare=False,
        topic_disable_leader=True,
        broker_session_timeout=6,
        broker_heartbeat_interval=2,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        datadir=str(report.parent / "baseline-faust"),
    )
    events = app.topic(EVENTS, key_type=bytes, value_type=bytes)
    state: dict[str, float] = {"count": 0}

    @app.agent(events)
    async def project(stream: Any) -> None:
        async for event in stream.events():
            if state["count"] == 0:
                state["started"] = time.perf_counter()
            with engine.begin() as conn:  # one event, one transaction
                apply_batch(
                    conn,
                    projections,
                    [(event.message.partition, event.message.offset, event.value)],
                )
            state["count"] += 1
            if state["count"] >= limit:
                elapsed = time.perf_counter() - state["started"]
                report.write_text(json.dumps({"events": state["count"], "seconds": elapsed}))
                break  # the benchmark stops this process once the report exists

    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
