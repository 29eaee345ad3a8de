"""The read models' bulk writes: every column type round-trips, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from accountability.projections import sql
from accountability.projections.sql import UTCDateTime, insert_ignoring_duplicates, upsert

scratch = MetaData()
sample = Table(
    "sql_writes_sample",
    scratch,
    Column("key", String(16), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("day", Date),
    Column("flag", Boolean),
    Column("big", BigInteger),
    Column("blob", LargeBinary),
    Column("note", Text),
)

AT = datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)


@pytest.fixture
def table(engine: Engine) -> Iterator[Table]:
    scratch.create_all(engine)
    yield sample
    scratch.drop_all(engine)


def row(key: str, **changes: object) -> dict[str, object]:
    base = {"key": key, "part": 1, "at": AT, "day": date(2024, 2, 29), "flag": True,
            "big": 2**40, "blob": b"\x00\xff", "note": "Ünïcode ✓"}  # fmt: skip
    return {**base, **changes}


def read(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(sample).order_by(sample.c.key)).mappings()]


def test_every_type_round_trips_and_upsert_replaces_while_insert_ignores(
    engine: Engine, table: Table
) -> None:
    later = AT + timedelta(days=1)
    with engine.begin() as conn:
        upsert(conn, table, [row("a"), row("b", flag=False, day=None, blob=None, note=None)])
        insert_ignoring_duplicates(conn, table, [row("a", note="ignored"), row("c")])
        upsert(conn, table, [row("b", at=later, flag=None)])

    assert read(engine) == [
        row("a"),
        row("b", at=later, flag=None),
        row("c"),
    ]
    first = read(engine)[0]["at"]
    assert isinstance(first, datetime)
    assert first.tzinfo is UTC


def test_rows_may_name_their_columns_in_any_order(engine: Engine, table: Table) -> None:
    shuffled = dict(reversed(list(row("z").items())))
    with engine.begin() as conn:
        upsert(conn, table, [shuffled])

    assert read(engine) == [row("z")]


def test_a_naive_instant_is_refused(engine: Engine, table: Table) -> None:
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        upsert(conn, table, [row("n", at=datetime(2024, 1, 1))])  # noqa: DTZ001


def test_a_flag_that_is_not_a_boolean_is_refused(engine: Engine, table: Table) -> None:
    with pytest.raises(TypeError, match="not a boolean value: 1"), engine.begin() as conn:
        upsert(conn, table, [row("f", flag=1)])


def test_instants_written_in_bulk_match_sqlalchemys_own_in_queries(
    engine: Engine, table: Table
) -> None:
    elsewhere = AT.astimezone(timezone(timedelta(hours=5, minutes=30)))
    whole_second = AT.replace(microsecond=0)
    with engine.begin() as conn:
        upsert(conn, table, [row("z", at=elsewhere), row("w", at=whole_second)])

    with engine.connect() as conn:
        found = conn.execute(select(sample.c.key).where(sample.c.at == AT)).scalars().all()
        later = conn.execute(select(sample.c.key).where(sample.c.at > whole_second)).scalars()
        assert found == ["z"]
        assert list(later) == ["z"]


def test_remembered_instants_convert_as_when_first_seen(
    engine: Engine, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "_REMEMBERED", 3)  # fill and empty the memory several times
    zone = timezone(timedelta(hours=-7))
    instants = [AT + timedelta(minutes=n % 5) for n in range(12)]
    rows = [
        row(f"k{n:02}", at=at.astimezone(zone) if n % 2 else at) for n, at in enumerate(instants)
    ]
    with engine.begin() as conn:
        upsert(conn, table, rows)

    assert [r["at"] for r in read(engine)] == instants
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        upsert(conn, table, [row("n", at=AT.replace(tzinfo=None))])
