"""Fixtures shared by every layer of tests: databases, brokers, settings.

PostgreSQL tests run against the server named by ACCOUNTABILITY_TEST_POSTGRES_URL
(default: the local server's ``postgres`` database, used only to create a scratch
database per session). When no server answers they are skipped with the reason,
except in CI (``CI`` set), where a missing server is a failure.
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from support.net import free_port

from accountability.projections import all_projections
from accountability.projections.ledger import checkpoint_metadata
from accountability.projections.sql import metadata as read_model_metadata
from accountability.services import db
from accountability.services.broker import EmbeddedBroker
from accountability.services.settings import Secret, Settings
from accountability.services.store import metadata as store_metadata

ADMIN_URL = os.environ.get(
    "ACCOUNTABILITY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this test session, dropped at the end."""
    admin = create_engine(_psycopg(ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"accountability_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = f"no PostgreSQL server answers at {ADMIN_URL}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
        pytest.skip(reason)
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _clean(engine: Engine) -> None:
    all_projections()
    tables = [
        *store_metadata.sorted_tables,
        *read_model_metadata.sorted_tables,
        *checkpoint_metadata.sorted_tables,
    ]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against SQLite and against PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty schema (store and read models)."""
    engine = db.create(database_url)
    db.create_schema(engine)
    _clean(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A fresh, empty embedded broker (Tansu keeps everything in memory)."""
    with EmbeddedBroker("127.0.0.1", free_port(), tmp_path / "broker.log") as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a stack of its own: a temporary data directory and free ports."""
    base = Settings.from_env({})
    return replace(
        base,
        data_dir=tmp_path / "data",
        database_url=Secret(f"sqlite:///{tmp_path / 'data' / 'accountability.db'}"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        worker_id=f"accountability-test-{uuid.uuid4().hex[:8]}",
        command_timeout_seconds=20.0,
    )
