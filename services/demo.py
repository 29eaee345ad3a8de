"""Load the demo dataset through the ordinary command path: bus, decider, log.

The loader acts as the demo principals it creates (an officer and one principal per
Member State), as a trusted local tool; nothing reaches the log except through the
decider. Command ids are derived from the seed, so loading twice adds nothing.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from accountability.events.commands import CommandEnvelope
from accountability.events.vocabulary import Role
from accountability.projections import all_projections
from accountability.projections.runner import load_checkpoints

from . import credentials, db
from .api.bus import CommandBus
from .demo_data import OFFICER, Demo, generate, state_actor
from .settings import Settings
from .store import audit_archive

Progress = Callable[[str], None]

_CONCURRENT_STREAMS = 64


def _ensure_principals(engine: Engine, demo: Demo) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        credentials.ensure_principal(
            conn,
            principal_id=OFFICER.principal_id,
            name="Demo officer",
            role=Role.OFFICER,
            member_state=None,
            now=now,
        )
        for code in sorted(demo.profiles):
            actor = state_actor(code)
            credentials.ensure_principal(
                conn,
                principal_id=actor.principal_id,
                name=f"Demo permanent mission of {code}",
                role=Role.MEMBER_STATE,
                member_state=code,
                now=now,
            )


async def submit_streams(
    settings: Settings, streams: Sequence[Sequence[CommandEnvelope]], progress: Progress
) -> Counter[str]:
    bus = CommandBus(settings)
    await asyncio.to_thread(bus.start)
    outcomes: Counter[str] = Counter()
    total = sum(len(s) for s in streams)
    gate = asyncio.Semaphore(_CONCURRENT_STREAMS)

    async def one_stream(stream: Sequence[CommandEnvelope]) -> None:
        async with gate:
            for command in stream:  # in order: each step builds on the one before
                result = await bus.submit(command)
                outcomes[result.rejection.code if result.rejection else "accepted"] += 1
                done = sum(outcomes.values())
                if done % 1000 == 0:
                    progress(f"  {done}/{total} commands decided")

    try:
        await asyncio.gather(*(one_stream(s) for s in streams))
    finally:
        await asyncio.to_thread(bus.stop)
    return outcomes


def wait_for_read_models(engine: Engine, timeout: float = 120.0) -> bool:
    """Wait until every read model has applied everything the archive says is in the log."""
    deadline = time.monotonic() + timeout
    names = [p.name for p in all_projections()]
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            ends = dict(
                conn.execute(
                    select(audit_archive.c.partition, func.max(audit_archive.c.log_offset) + 1)
                    .where(audit_archive.c.log_offset.is_not(None))
                    .group_by(audit_archive.c.partition)
                ).all()
            )
            done = {name: load_checkpoints(conn, name) for name in names}
        if all(done[n].get(p, 0) >= end for n in names for p, end in ends.items()):
            return True
        time.sleep(0.2)
    return False


def load_demo(
    settings: Settings, engine: Engine, *, progress: Progress = print, seed: int = 2016
) -> str:
    started = time.monotonic()
    demo = generate(seed)
    _ensure_principals(engine, demo)
    progress(f"  {demo.cases} cases, {demo.commands} commands (seed {seed})")
    outcomes = asyncio.run(submit_streams(settings, demo.streams, progress))
    caught_up = wait_for_read_models(engine)
    rejected = {k: v for k, v in outcomes.items() if k != "accepted"}
    return (
        f"demo loaded in {time.monotonic() - started:.1f}s: {demo.cases} cases, "
        f"{outcomes['accepted']} commands accepted"
        + (f", rejected {rejected}" if rejected else "")
        + ("" if caught_up else "; the read models are still catching up")
    )


def load_demo_into_running_stack(settings: Settings) -> int:
    engine = db.create(settings.database_url)
    db.create_schema(engine)
    try:
        print(load_demo(settings, engine))
    finally:
        engine.dispose()
    return 0
