"""Database engines: SQLite for the embedded default, PostgreSQL in production.

Both go through the same SQLAlchemy Core code; only the connection set-up differs.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text

from accountability.projections import all_projections, country_figures
from accountability.projections.ledger import checkpoint_metadata
from accountability.projections.sql import metadata as read_models

from .settings import Secret
from .store import metadata as store


def create(url: Secret | str, *, writer: bool = True, **options: Any) -> Engine:
    """An engine for ``url``.

    On SQLite every transaction begins explicitly, and a writer's begins IMMEDIATE: a
    deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    another process committed in between, whereas IMMEDIATE waits its turn.
    """
    raw = url.reveal() if isinstance(url, Secret) else url
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw.removeprefix("postgresql://")
    if raw.startswith("sqlite"):
        engine = create_engine(raw, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 10)
    return create_engine(raw, **options)


def same_database(a: Secret | str, b: Secret | str) -> bool:
    """Whether two URLs name the same database (SQLite files compared by path)."""
    first, second = (make_url(_plain(u)) for u in (a, b))
    if first.get_backend_name() != second.get_backend_name():
        return False
    if first.get_backend_name() == "sqlite":
        return Path(first.database or "").resolve() == Path(second.database or "").resolve()
    return (first.host, first.port or 5432, first.database) == (
        second.host, second.port or 5432, second.database,
    )  # fmt: skip


def _plain(url: Secret | str) -> str:
    return url.reveal() if isinstance(url, Secret) else url


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN instead of the driver's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_SCHEMA_LOCK = 7_414_220_001
"""PostgreSQL advisory lock key: workers started together create the tables one at a time."""


def create_schema(engine: Engine) -> None:
    """Create every table that is missing (store and read models). Idempotent."""
    all_projections()  # the read models' modules define their tables
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        for meta in (store, read_models, checkpoint_metadata):
            meta.create_all(conn)
            # create_all skips the tables already there: add an index added since.
            for table in meta.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
        # A database made before country figures were kept: count them once.
        country_figures.fill_if_missing(conn)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
