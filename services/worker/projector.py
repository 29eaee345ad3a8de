"""The live projector: batches of events into every read model, one transaction each."""

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine

from accountability.projections.runner import Projection, RawRecord, apply_batch


class Projector:
    def __init__(self, engine: Engine, projections: Sequence[Projection]) -> None:
        self._engine = engine
        self._projections = list(projections)

    async def handle(self, batch: Sequence[RawRecord]) -> int:
        return await asyncio.to_thread(self.apply, batch)

    def apply(self, batch: Sequence[RawRecord]) -> int:
        with self._engine.begin() as conn:
            return apply_batch(conn, self._projections, batch)
