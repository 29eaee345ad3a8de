"""Rebuild read models beside the live ones, then switch to them in one transaction.

The live read models keep serving (and the live projector keeps them current) while
the rebuild fills a staging copy from offset 0: on PostgreSQL the same tables in
the schema ``accountability_rebuild``, on SQLite a file beside the database. Then,
in one transaction that holds the projector off (PostgreSQL: the checkpoint table
locked EXCLUSIVE, which readers do not mind; SQLite: the write lock, which WAL
readers do not mind), the staging copy catches up with whatever the log gained
meanwhile and takes the place of the live tables:

- the tables a rebuilt projection owns are replaced whole: on PostgreSQL the live
  ones are dropped and the staged ones moved into their schema (``SET SCHEMA``:
  no copy); on SQLite, which cannot move a table between files, the rows are copied
  into freshly created tables;
- the tables projections share (checkpoints, progress, dead letters) have the
  rebuilt projections' rows replaced, so another projection's position is untouched.

A reader sees the old read models up to the commit and the new ones after it. The
live projector, blocked meanwhile, then finds checkpoints at or past its batch and
skips what the rebuild already applied. One rebuild runs at a time (an advisory lock
on PostgreSQL, a lock file on SQLite).
"""

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, MetaData, Table, delete, event, insert, select, text
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from accountability.projections import all_projections
from accountability.projections.runner import (
    Projection,
    apply_batch,
    checkpoints,
    load_checkpoints,
)
from accountability.projections.sql import insert_ignoring_duplicates
from accountability.projections.sql import metadata as read_models

from . import db
from .log_reader import Progress, read_log
from .rebuild import BATCH_SIZE, RebuildReport, rebuild_into

STAGING: Final = "accountability_rebuild"
"""The PostgreSQL schema, and the SQLite attachment, that holds the staging copy."""

_REBUILD_LOCK: Final = 7_414_220_002
"""PostgreSQL advisory lock key held for a whole rebuild."""


class RebuildRefused(RuntimeError):
    """A rebuild that cannot start (another one runs, or nothing to rebuild)."""


@dataclass(frozen=True, slots=True)
class SwitchReport:
    projections: tuple[str, ...]
    filled: RebuildReport
    caught_up: int
    """Events the staging copy applied in the switch's transaction."""
    switch_seconds: float
    """How long the switch held the projector off."""


def rebuild_beside(
    engine: Engine,
    bootstrap: str,
    partitions: int,
    *,
    projections: Sequence[Projection] | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> SwitchReport:
    """Rebuild ``projections`` (default: every read model) from offset 0 and switch."""
    chosen = list(projections or all_projections())
    owned = [t for p in chosen for t in p.tables]
    if not owned:
        raise RebuildRefused("nothing to rebuild: the chosen projections own no tables")
    with _one_rebuild_at_a_time(engine):
        staging = _PostgresStaging(engine) if _is_postgres(engine) else _SqliteStaging(engine)
        try:
            staging.prepare()
            filled = rebuild_into(
                staging.fill_engine(), bootstrap, partitions,
                projections=chosen, batch_size=batch_size, fresh=False, progress=progress,
            )  # fmt: skip
            with staging.switching() as conn:
                started = time.perf_counter()
                caught_up = _catch_up(conn, chosen, bootstrap, partitions, batch_size)
                staging.replace_owned(conn, owned)
                _replace_shared_rows(conn, [p.name for p in chosen])
                took = time.perf_counter() - started
        finally:
            staging.discard()
    return SwitchReport(tuple(p.name for p in chosen), filled, caught_up, took)


def shared_tables() -> list[Table]:
    """The read-model tables no projection owns: positions, progress, dead letters."""
    owned = {t.name for p in all_projections() for t in p.tables}
    return [t for t in read_models.sorted_tables if t.name not in owned]


# --- the staging copy -----------------------------------------------------------------


def _is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _staged(conn: Connection) -> Connection:
    """``conn`` with every read-model statement aimed at the staging copy."""
    return conn.execution_options(schema_translate_map={None: STAGING})


def _live(conn: Connection) -> Connection:
    return conn.execution_options(schema_translate_map=None)


class _PostgresStaging:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def prepare(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{STAGING}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{STAGING}"'))
        read_models.create_all(self.fill_engine())

    def fill_engine(self) -> Engine:
        return self._engine.execution_options(schema_translate_map={None: STAGING})

    @contextlib.contextmanager
    def switching(self) -> Iterator[Connection]:
        with self._engine.begin() as conn:
            # The live projector's first statement touches the checkpoints: this holds
            # it off, while readers (ACCESS SHARE) go on reading the old tables.
            conn.execute(text(f"LOCK TABLE {_quoted(conn, checkpoints)} IN EXCLUSIVE MODE"))
            yield conn

    def replace_owned(self, conn: Connection, owned: Sequence[Table]) -> None:
        _live(conn)
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        for table in owned:
            name = conn.dialect.identifier_preparer.quote(table.name)
            conn.execute(text(f'DROP TABLE IF EXISTS "{schema}".{name}'))
            conn.execute(text(f'ALTER TABLE "{STAGING}".{name} SET SCHEMA "{schema}"'))

    def discard(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{STAGING}" CASCADE'))


class _SqliteStaging:
    def __init__(self, engine: Engine) -> None:
        database = engine.url.database
        if not database or database == ":memory:":
            raise RebuildRefused("a rebuild beside the live read models needs a database file")
        self._url = engine.url
        self._path = Path(f"{database}.rebuild")
        self._fill: Engine | None = None

    def prepare(self) -> None:
        self.discard()
        self._fill = db.create(f"sqlite:///{self._path}")
        read_models.create_all(self._fill)

    def fill_engine(self) -> Engine:
        assert self._fill is not None, "prepare() first"
        return self._fill

    @contextlib.contextmanager
    def switching(self) -> Iterator[Connection]:
        # ATTACH cannot run inside a transaction, so it is done as each connection opens.
        engine = db.create(self._url.render_as_string(hide_password=False))
        path = str(self._path)

        def attach(dbapi_connection: Any, _record: object) -> None:
            dbapi_connection.execute(f"ATTACH DATABASE ? AS {STAGING}", (path,))

        event.listen(engine, "connect", attach)
        try:
            with engine.begin() as conn:  # BEGIN IMMEDIATE: the write lock, for the switch
                yield conn
        finally:
            engine.dispose()

    def replace_owned(self, conn: Connection, owned: Sequence[Table]) -> None:
        _live(conn)
        for table in owned:
            staged = table.to_metadata(MetaData(), schema=STAGING)
            conn.execute(DropTable(table, if_exists=True))
            conn.execute(CreateTable(table))
            conn.execute(insert(table).from_select(list(table.c.keys()), select(staged)))
            for index in table.indexes:  # after the rows: one sort instead of many inserts
                conn.execute(CreateIndex(index))

    def discard(self) -> None:
        if self._fill is not None:
            self._fill.dispose()
            self._fill = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self._path}{suffix}")


# --- the switch -------------------------------------------------------------------------


def _catch_up(
    conn: Connection,
    chosen: Sequence[Projection],
    bootstrap: str,
    partitions: int,
    batch_size: int,
) -> int:
    """Apply to the staging copy what the log gained since it was filled."""
    staged = _staged(conn)
    done = [load_checkpoints(staged, p.name) for p in chosen]
    start = {n: min(d.get(n, 0) for d in done) for n in range(partitions)}

    async def read() -> list[list[Any]]:
        return [batch async for batch in read_log(bootstrap, partitions, start, batch_size)]

    caught_up = 0
    for batch in asyncio.run(read()):
        caught_up += apply_batch(staged, chosen, batch)
    return caught_up


def _replace_shared_rows(conn: Connection, names: Sequence[str]) -> None:
    """The rebuilt projections' rows of the shared tables replace the live ones."""
    for table in shared_tables():
        if "projection" not in table.c:
            # Records that do not decode are the same for every projection: add any new.
            rows = [dict(r) for r in _staged(conn).execute(select(table)).mappings()]
            insert_ignoring_duplicates(_live(conn), table, rows)
            continue
        columns = [c for c in table.c if not (c.primary_key and c.autoincrement is True)]
        rows = [
            dict(r)
            for r in _staged(conn)
            .execute(select(*columns).where(table.c.projection.in_(names)))
            .mappings()
        ]
        _live(conn).execute(delete(table).where(table.c.projection.in_(names)))
        if rows:
            _live(conn).execute(insert(table), rows)


def _quoted(conn: Connection, table: Table) -> str:
    return conn.dialect.identifier_preparer.quote(table.name)


@contextlib.contextmanager
def _one_rebuild_at_a_time(engine: Engine) -> Iterator[None]:
    if _is_postgres(engine):
        with engine.connect() as conn:
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _REBUILD_LOCK})
            conn.commit()
            if not taken.scalar_one():
                raise RebuildRefused("another rebuild is running on this database")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _REBUILD_LOCK})
                conn.commit()
        return
    lock_path = f"{engine.url.database}.rebuild.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RebuildRefused("another rebuild is running on this database") from None
        yield
