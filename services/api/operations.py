"""The API's reader with one more capability: replaying dead letters.

It is the ordinary :class:`~.submit.SqlReader` (so every other capability stays), plus
``replay_dead_letter`` (:class:`~accountability.graphql.operations.DeadLetterDesk`).
The API's own engine only reads; a replay writes, and on SQLite a writer must begin
IMMEDIATE, so each replay opens a writing engine of its own and disposes of it:
replays are rare.
"""

import asyncio

from sqlalchemy import Engine

from accountability.projections.replay import ReplayReport
from accountability.services import db, metrics
from accountability.services.dead_letters import UnknownDeadLetter, replay
from accountability.services.settings import Settings

from .submit import SqlReader


class OperationsReader(SqlReader):
    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine)
        self._settings = settings

    async def replay_dead_letter(self, letter_id: int) -> ReplayReport | None:
        return await asyncio.to_thread(self._replay, letter_id)

    def _replay(self, letter_id: int) -> ReplayReport | None:
        writer = db.create(self._settings.database_url)
        try:
            metrics.create_tables(writer)
            (report,) = replay(writer, letter_id)
        except UnknownDeadLetter:
            return None
        finally:
            writer.dispose()
        return report
