"""Rebuilds against a real broker and both databases: blue/green, one stream, a copy as of.

Each test writes a log to the embedded broker, applies it "live" in small batches,
then damages the live read models the way a projection bug would, so that a rebuild
has something to mend and a reader can tell the old tables from the new.
"""

import asyncio
import gc
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Engine, func, inspect, select, update
from support.domain import Log, command
from support.net import free_port
from support.read_models import apply, snapshot

from accountability.events import commands as c
from accountability.events.commands import case_stream
from accountability.events.types import CaseId
from accountability.projections.audit_log import AuditLogProjection, audit_log
from accountability.projections.case_history import CaseHistoryProjection
from accountability.projections.history_tables import case_versions
from accountability.projections.runner import apply_batch, checkpoints
from accountability.services import cli, db, log_reader
from accountability.services.blue_green import (
    STAGING,
    RebuildRefused,
    _one_rebuild_at_a_time,
    rebuild_beside,
    shared_tables,
)
from accountability.services.broker import EmbeddedBroker
from accountability.services.kafka import ensure_topics
from accountability.services.rebuild import rebuild_into
from accountability.services.rebuild_workers import RebuildFailed
from accountability.services.settings import Settings
from accountability.services.stream_rebuild import rebuild_stream
from accountability.services.topics import EVENTS

pytestmark = pytest.mark.broker

PARTITIONS = 4
PHASE_ONE = datetime(2025, 1, 6, 12, tzinfo=UTC)
PHASE_TWO = datetime(2025, 7, 7, 12, tzinfo=UTC)


@pytest.fixture
def bootstrap(settings: Settings, broker: EmbeddedBroker) -> str:
    ensure_topics(replace(settings, kafka_bootstrap_servers=broker.bootstrap))
    return broker.bootstrap


def two_phase_log() -> Log:
    """Cases recorded in January 2025, then more (and a retraction) in July."""
    log = Log(partitions=PARTITIONS, now=PHASE_ONE)
    for n in range(8):
        log.case(f"R-{n}", ["GAB", "RWA", "NPL", "BGD"][n % 4], substantiated=n % 3 != 0)
    log.now = PHASE_TWO
    for n in range(8, 12):
        log.case(f"R-{n}", "PAK", reply_after=None)
    victim = next(
        e for e in log.envelopes if e.stream_id == "case:R-1" and e.type == "VictimRecorded"
    )
    log.submit(
        command(
            c.RetractEvent(case_stream(CaseId("R-1")), victim.event_id, "recorded twice"),
            at=PHASE_TWO,
        )
    )
    return log


def publish(bootstrap: str, records: list[tuple[int, int, bytes]]) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            for partition, _, raw in records:
                await producer.send_and_wait(EVENTS, raw, key=_key(raw), partition=partition)
        finally:
            await producer.stop()

    asyncio.run(send())


def _key(raw: bytes) -> bytes:
    return str(json.loads(raw)["stream_id"]).encode()


def mission_of(engine: Engine, case_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(case_versions.c.mission).where(
                case_versions.c.case_id == case_id, case_versions.c.recorded_to.is_(None)
            )
        ).scalar_one_or_none()


def damage(engine: Engine, case_id: str) -> None:
    """What a projection bug might leave: a wrong mission and a lost audit entry."""
    with engine.begin() as conn:
        conn.execute(
            update(case_versions).where(case_versions.c.case_id == case_id).values(mission="BUG")
        )
        first = conn.execute(
            select(func.min(audit_log.c.sequence)).where(audit_log.c.stream_id == f"case:{case_id}")
        ).scalar_one()
        conn.execute(
            audit_log.delete().where(
                audit_log.c.stream_id == f"case:{case_id}", audit_log.c.sequence == first
            )
        )


def clean_copy(tmp_path: Path, records: list[tuple[int, int, bytes]]) -> Engine:
    clean = db.create(f"sqlite:///{tmp_path / 'clean.db'}")
    db.create_schema(clean)
    apply(clean, records, batch=7)
    return clean


def test_a_blue_green_rebuild_serves_the_old_tables_until_it_switches_to_equal_ones(
    engine: Engine, bootstrap: str, tmp_path: Path
) -> None:
    log = two_phase_log()
    first, later = log.records[:60], log.records[60:]
    publish(bootstrap, first)
    apply(engine, first, batch=5)
    damage(engine, "R-2")
    seen_while_filling: list[str | None] = []

    def progress(done: int, total: int | None) -> None:
        # The live side goes on meanwhile: readers see the old tables, and the live
        # projector applies what the log gains, which the switch must catch up with.
        seen_while_filling.append(mission_of(engine, "R-2"))
        if later and total is not None and done >= total:  # the fill has read its end
            # From a thread: this runs inside the rebuild's event loop.
            publishing = threading.Thread(target=publish, args=(bootstrap, list(later)))
            publishing.start()
            publishing.join()
            apply(engine, later, batch=5)
            later.clear()

    report = rebuild_beside(engine, bootstrap, PARTITIONS, batch_size=10, progress=progress)

    assert seen_while_filling
    assert set(seen_while_filling) == {"BUG"}
    assert report.caught_up > 0, "the events published during the fill came in the switch"
    assert report.filled.events + report.caught_up == len(log.records)
    assert mission_of(engine, "R-2") == "MINUSCA"
    clean = clean_copy(tmp_path, log.records)
    assert snapshot(engine) == snapshot(clean)
    assert _staging_is_gone(engine)


def test_rebuilding_one_read_model_leaves_the_others_and_their_positions_alone(
    engine: Engine, bootstrap: str, tmp_path: Path
) -> None:
    log = two_phase_log()
    publish(bootstrap, log.records)
    apply(engine, log.records, batch=9)
    damage(engine, "R-3")
    with engine.connect() as conn:
        before = conn.execute(
            select(checkpoints).where(checkpoints.c.projection == "audit_log")
        ).all()

    rebuild_beside(engine, bootstrap, PARTITIONS, projections=[CaseHistoryProjection()])

    clean = snapshot(clean_copy(tmp_path, log.records))
    mended = snapshot(engine)
    for table in CaseHistoryProjection().tables:
        assert mended[table.name] == clean[table.name], table.name
    assert len(mended["audit_log"]) == len(clean["audit_log"]) - 1  # still damaged
    with engine.connect() as conn:
        after = conn.execute(
            select(checkpoints).where(checkpoints.c.projection == "audit_log")
        ).all()
    assert after == before


def test_one_stream_is_rebuilt_in_place_and_no_other(
    engine: Engine, bootstrap: str, tmp_path: Path
) -> None:
    log = two_phase_log()
    publish(bootstrap, log.records)
    apply(engine, log.records, batch=9)
    damage(engine, "R-1")  # the case with a retracted event: its versions must come back too
    damage(engine, "R-4")

    report = rebuild_stream(engine, bootstrap, PARTITIONS, "case:R-1")

    assert report.projections == ("audit_log", "case_history")
    assert report.skipped == ("ledger",)
    assert report.events == sum(1 for e in log.envelopes if e.stream_id == "case:R-1")
    clean = clean_copy(tmp_path, log.records)
    assert (mission_of(engine, "R-1"), mission_of(engine, "R-4")) == ("MINUSCA", "BUG")
    mine, theirs = snapshot(engine), snapshot(clean)
    for name in ("case_versions", "unit_versions", "state_case_versions", "stream_events"):
        assert _rows_of(mine[name], "R-1") == _rows_of(theirs[name], "R-1"), name
    assert [r for r in mine["audit_log"] if r[1] == "case:R-1"] == [
        r for r in theirs["audit_log"] if r[1] == "case:R-1"
    ]


def test_a_stream_the_log_does_not_hold_is_refused(engine: Engine, bootstrap: str) -> None:
    with pytest.raises(RebuildRefused, match="no event of stream 'case:NOPE'"):
        rebuild_stream(engine, bootstrap, PARTITIONS, "case:NOPE")
    with pytest.raises(RebuildRefused, match="neither case"):
        rebuild_stream(engine, bootstrap, PARTITIONS, "R-1")


def test_a_copy_as_of_an_instant_holds_what_was_recorded_by_then(
    engine: Engine, bootstrap: str, tmp_path: Path
) -> None:
    log = two_phase_log()
    publish(bootstrap, log.records)
    until = PHASE_ONE + timedelta(days=30)
    recorded_by_then = [
        record
        for record, envelope in zip(log.records, log.envelopes, strict=True)
        if envelope.recorded_at <= until
    ]

    report = rebuild_into(engine, bootstrap, PARTITIONS, until=until)

    assert 0 < report.events == len(recorded_by_then) < len(log.records)
    expected = snapshot(clean_copy(tmp_path, recorded_by_then))
    assert snapshot(engine) == expected
    assert mission_of(engine, "R-9") is None  # reported in July


def test_only_one_rebuild_runs_at_a_time(engine: Engine, bootstrap: str) -> None:
    with _one_rebuild_at_a_time(engine), pytest.raises(RebuildRefused, match="another rebuild"):
        rebuild_beside(engine, bootstrap, PARTITIONS)


def test_every_read_model_table_is_owned_by_one_projection_or_shared() -> None:
    shared = {t.name for t in shared_tables()}
    assert shared == {
        "projection_checkpoints", "projection_progress", "dead_letters", "projection_undecodable",
    }  # fmt: skip
    owned = [t.name for p in (AuditLogProjection(), CaseHistoryProjection()) for t in p.tables]
    assert len(owned) == len(set(owned))


def _rows_of(rows: list[tuple[object, ...]], case_id: str) -> list[tuple[object, ...]]:
    return [r for r in rows if case_id in (r[0], r[1]) or r[0] == f"case:{case_id}"]


def _staging_is_gone(engine: Engine) -> bool:
    if engine.dialect.name == "postgresql":
        return STAGING not in inspect(engine).get_schema_names()
    return not Path(f"{engine.url.database}.rebuild").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--as-of", "2025-01-01T00:00:00Z"], "--as-of rebuilds into a separate",
                     id="as-of-needs-into"),
        pytest.param(["--case", "R-1", "--into", "sqlite:///elsewhere.db"], "leave out --into",
                     id="stream-is-in-place"),
        pytest.param(["--projection", "cases"], "unknown projection 'cases'", id="projection"),
        pytest.param(["--into", "{live}"], "names the live database", id="into-the-live-one"),
        pytest.param(["--into", "sqlite:///{tmp}/copy.db", "--as-of", "yesterday"],
                     "--as-of:", id="bad-instant"),
    ],
)  # fmt: skip
def test_the_command_refuses_what_it_cannot_do_and_says_why(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("ACCOUNTABILITY_DATABASE_URL", live)
    argv = [a.format(live=live, tmp=tmp_path) for a in args]

    assert cli.main(["rebuild", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not Path(tmp_path / "copy.db").exists()


def test_the_command_rebuilds_beside_the_live_tables_and_reports_the_switch(
    bootstrap: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = two_phase_log()
    publish(bootstrap, log.records)
    live = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("ACCOUNTABILITY_DATABASE_URL", live)
    monkeypatch.setenv("ACCOUNTABILITY_KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("ACCOUNTABILITY_TOPIC_PARTITIONS", str(PARTITIONS))

    assert cli.main(["rebuild"]) == 0
    assert cli.main(["rebuild", "--case", "R-1", "--quiet"]) == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert cli.main(["rebuild", "--into", copy, "--as-of", "2025-02-01T00:00:00Z"]) == 0

    out = capsys.readouterr()
    assert f"from {len(log.records)} events" in out.out
    assert "rebuilt case:R-1 in audit_log, case_history" in out.out
    assert "as of 2025-02-01T00:00:00Z into a separate database" in out.out
    assert "100%" in out.err  # the progress bar's last line
    assert mission_of(db.create(copy), "R-9") is None
    assert mission_of(db.create(live), "R-9") == "MINUSCA"


def test_a_rebuild_shared_out_among_processes_equals_one_in_a_single_process(
    engine: Engine, bootstrap: str, tmp_path: Path
) -> None:
    log = two_phase_log()
    publish(bootstrap, log.records)
    seen: list[tuple[int, int | None]] = []

    report = rebuild_into(
        engine, bootstrap, PARTITIONS, processes=2, batch_size=7,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip

    assert report.events == len(log.records)
    assert seen[-1] == (len(log.records), len(log.records))
    single = db.create(f"sqlite:///{tmp_path / 'single.db'}")
    db.create_schema(single)
    rebuild_into(single, bootstrap, PARTITIONS, processes=1)
    assert snapshot(engine) == snapshot(single)


def test_a_failing_rebuild_process_fails_the_rebuild_and_says_where(engine: Engine) -> None:
    unreachable = f"127.0.0.1:{free_port()}"

    with pytest.raises(RebuildFailed, match=r"partitions \(0, 2\): KafkaConnectionError"):
        rebuild_into(engine, unreachable, PARTITIONS, processes=2)


def test_a_rebuild_collects_cycles_less_often_and_restores_the_collector(
    engine: Engine, bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(bootstrap, two_phase_log().records)
    thresholds: list[tuple[int, int, int]] = []

    def watched(*args: Any) -> int:
        thresholds.append(gc.get_threshold())
        return apply_batch(*args)

    monkeypatch.setattr(log_reader, "apply_batch", watched)
    before = gc.get_threshold()

    rebuild_into(engine, bootstrap, PARTITIONS, processes=1, batch_size=7)

    assert set(thresholds) == {log_reader.THRESHOLDS}
    assert gc.get_threshold() == before != log_reader.THRESHOLDS


def test_the_collector_is_restored_when_applying_fails() -> None:
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []

    def fail() -> None:
        with log_reader.fewer_collections():
            during.append(gc.get_threshold())
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        fail()

    assert during == [log_reader.THRESHOLDS]
    assert gc.get_threshold() == before
