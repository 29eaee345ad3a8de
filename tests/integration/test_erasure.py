"""Erasing a victim's data, on SQLite and PostgreSQL: the text is gone everywhere, and
every hash, chain, tree, checkpoint and proof still verifies.

Narratives and notes are sealed with the real key store, recorded through the pure
decider, applied to every read model and to the key shredder, then erased. The
plain text is looked for in every table, every log record and the export bundle;
the sealed text, which stays, is tried against every key left.
"""

import asyncio
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Engine, String, Text, select
from support.domain import T0, Log, command

from accountability.events import commands as c
from accountability.events.catalogue import VictimDataErased
from accountability.events.envelope import Envelope
from accountability.events.policy import DEFAULT_POLICY
from accountability.events.privacy import CannotOpen, CaseKey, SealedText, open_text
from accountability.events.types import CaseId
from accountability.events.vocabulary import ErasureReason
from accountability.projections import all_projections, case_file
from accountability.projections.ledger import checkpoint_metadata
from accountability.projections.runner import RawRecord, apply_batch, decode_records
from accountability.projections.sql import metadata as read_models
from accountability.services import archive, db, keys
from accountability.services.broker import EmbeddedBroker
from accountability.services.bundle import export_bundle
from accountability.services.checkpoints import publish_checkpoint
from accountability.services.kafka import ensure_topics
from accountability.services.settings import Settings
from accountability.services.store import case_keys
from accountability.services.store import metadata as store
from accountability.services.topics import EVENTS
from accountability.services.verify import verify_bundle
from accountability.services.verify_live import verify_live

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ERASED, KEPT = "E-1", "E-2"
NARRATIVE = "The complainant, a seventeen-year-old, was approached near the water point."
NOTE = "Her mother asked that the family's village not be written down."
OTHER = "A second account, of a case nobody erased."


@dataclass
class Recorded:
    log: Log
    sealed: dict[str, list[SealedText]]
    """Every sealed text of each case, as the events carry them."""


def _apply(engine: Engine, records: list[RawRecord]) -> None:
    with engine.begin() as conn:
        apply_batch(conn, [*all_projections(), keys.KeyShredder()], records)


def _texts_for(engine: Engine, log: Log, case_id: str, texts: list[str]) -> list[SealedText]:
    sealed = []
    for number, text in enumerate(texts):
        with engine.begin() as conn:
            one = keys.seal(conn, case_id, text, NOW)
        cmd = (
            c.RecordNarrative(CaseId(case_id), one)
            if number == 0
            else c.AddCaseNote(CaseId(case_id), one)
        )
        log.submit(command(cmd, at=T0 + timedelta(days=5, hours=number)))
        sealed.append(one)
    return sealed


@pytest.fixture
def recorded(engine: Engine) -> Recorded:
    log = Log()
    log.case(ERASED, "GAB")
    log.case(KEPT, "NPL")
    sealed = {
        ERASED: _texts_for(engine, log, ERASED, [NARRATIVE, NOTE]),
        KEPT: _texts_for(engine, log, KEPT, [OTHER]),
    }
    _apply(engine, log.records)
    return Recorded(log, sealed)


def _erase(engine: Engine, recorded: Recorded, case_id: str = ERASED) -> Envelope:
    before = len(recorded.log.records)
    [erasure] = recorded.log.submit(
        command(c.EraseVictimData(CaseId(case_id), ErasureReason.VICTIM_REQUEST),
                at=T0 + timedelta(days=9))
    )  # fmt: skip
    _apply(engine, recorded.log.records[before:])
    return erasure


def _opened(engine: Engine, case_id: str, texts: list[SealedText]) -> list[tuple[str, str | None]]:
    with engine.begin() as conn:
        return [(o.status, o.text) for o in keys.open_texts(conn, case_id, list(texts), NOW)]


def _every_stored_text(engine: Engine) -> Iterator[tuple[str, str]]:
    """(table, value) for every text value of every table: store, read models, ledger."""
    all_projections()
    with engine.connect() as conn:
        for meta in (store, read_models, checkpoint_metadata):
            for table in meta.sorted_tables:
                columns = [col for col in table.columns if isinstance(col.type, String | Text)]
                if not columns:
                    continue
                for row in conn.execute(select(*columns)):
                    for value in row:
                        if isinstance(value, str):
                            yield table.name, value


def _keys_left(engine: Engine) -> list[CaseKey]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(case_keys.c.key_id, case_keys.c.material).where(
                case_keys.c.material.is_not(None)
            )
        ).all()
    return [CaseKey(key_id, bytes(material)) for key_id, material in rows]


# --- before and after ------------------------------------------------------------------------


def test_text_is_sealed_in_every_copy_and_opens_only_through_the_key_store(
    engine: Engine, recorded: Recorded
) -> None:
    assert _opened(engine, ERASED, recorded.sealed[ERASED]) == [
        ("readable", NARRATIVE), ("readable", NOTE),
    ]  # fmt: skip
    for text in (NARRATIVE, NOTE, OTHER):
        assert not [t for t, value in _every_stored_text(engine) if text in value]
        assert not [r for r in recorded.log.records if text.encode() in r[2]]
    with engine.connect() as conn:
        view = case_file.get_case(conn, ERASED, DEFAULT_POLICY, NOW)
    assert view is not None
    assert view.narrative is not None
    assert view.narrative["sealed"] == recorded.sealed[ERASED][0]
    assert [n["note_id"] for n in view.notes] == ["N1"]


def test_after_erasure_the_text_is_gone_everywhere_and_the_other_case_is_untouched(
    engine: Engine, recorded: Recorded
) -> None:
    erasure = _erase(engine, recorded)

    assert erasure.payload == VictimDataErased(
        recorded.sealed[ERASED][0].split(":")[2], ErasureReason.VICTIM_REQUEST
    )
    assert _opened(engine, ERASED, recorded.sealed[ERASED]) == [("erased", None)] * 2
    with engine.connect() as conn:
        row = conn.execute(select(case_keys).where(case_keys.c.case_id == ERASED)).one()
    assert row.material is None
    assert row.destroyed_at is not None
    assert row.erasure_event_id == erasure.event_id
    # The ciphertext is still in the log (nothing there changes), and no key opens it.
    ciphertexts = [s for s in recorded.sealed[ERASED] if any(s.encode() in r[2]
                   for r in recorded.log.records)]  # fmt: skip
    assert ciphertexts == recorded.sealed[ERASED]
    for sealed_text in ciphertexts:
        for key in _keys_left(engine):
            with pytest.raises(CannotOpen):
                open_text(sealed_text, key, ERASED)
    with engine.begin() as conn, pytest.raises(keys.TextErased, match="was erased"):
        keys.key_for_sealing(conn, ERASED, NOW)
    assert _opened(engine, KEPT, recorded.sealed[KEPT]) == [("readable", OTHER)]


def test_the_case_file_shows_that_text_was_erased_now_and_as_of_before(
    engine: Engine, recorded: Recorded
) -> None:
    before = recorded.log.now
    recorded.log.now = before + timedelta(hours=1)
    erasure = _erase(engine, recorded)

    with engine.connect() as conn:
        now = case_file.get_case(conn, ERASED, DEFAULT_POLICY, NOW)
        then = case_file.get_case(conn, ERASED, DEFAULT_POLICY, NOW, as_of=before)
    assert now is not None
    assert then is not None
    assert (now.erased_at, now.erasure_reason) == (erasure.occurred_at, "victim_request")
    assert now.narrative is not None
    assert now.narrative["sealed"] is None
    assert [n["sealed"] for n in now.notes] == [None]
    # As of before the erasure the file held the ciphertext; it no longer opens.
    assert then.erased_at is None
    assert then.narrative is not None
    assert _opened(engine, ERASED, [then.narrative["sealed"]]) == [("erased", None)]


def test_an_erasure_in_the_archive_destroys_the_key_at_its_next_use(
    engine: Engine, recorded: Recorded
) -> None:
    """The API may stop between the erasure's acceptance and the key's destruction."""
    [erasure] = recorded.log.submit(
        command(c.EraseVictimData(CaseId(ERASED), ErasureReason.LEGAL_ORDER),
                at=T0 + timedelta(days=9))
    )  # fmt: skip
    raw = recorded.log.records[-1][2]
    with engine.begin() as conn:
        archive.stage(conn, [archive.StagedEvent(erasure, raw, 0)], [], NOW)
    assert len(_keys_left(engine)) == 2  # neither the API nor the worker destroyed it yet

    assert _opened(engine, ERASED, recorded.sealed[ERASED]) == [("erased", None)] * 2
    assert len(_keys_left(engine)) == 1
    with engine.begin() as conn:
        assert keys.sweep(conn, NOW) == []


def test_the_sweep_destroys_what_no_one_destroyed_and_is_idempotent(
    engine: Engine, recorded: Recorded
) -> None:
    [erasure] = recorded.log.submit(
        command(c.EraseVictimData(CaseId(ERASED), ErasureReason.SAFETY),
                at=T0 + timedelta(days=9))
    )  # fmt: skip
    with engine.begin() as conn:
        archive.stage(conn, [archive.StagedEvent(erasure, recorded.log.records[-1][2], 0)], [],
                      NOW)  # fmt: skip

    with engine.begin() as conn:
        assert keys.sweep(conn, NOW) == [ERASED]
    with engine.begin() as conn:
        assert keys.sweep(conn, NOW) == []
        assert keys.destroy(conn, ERASED, NOW) is False


def test_a_case_erased_before_it_had_text_never_gets_a_key(engine: Engine) -> None:
    with engine.begin() as conn:
        assert keys.destroy(conn, "E-9", NOW, "event-1") is False
    with engine.begin() as conn, pytest.raises(keys.TextErased):
        keys.seal(conn, "E-9", NARRATIVE, NOW)


def test_a_case_has_one_key_however_often_it_is_asked_for(engine: Engine) -> None:
    with engine.begin() as conn:
        first = keys.key_for_sealing(conn, "E-7", NOW)
    with engine.begin() as conn:
        again = keys.key_for_sealing(conn, "E-7", NOW + timedelta(seconds=1))

    assert first == again
    assert first.material.hex() not in repr(first)


def test_the_shredder_applies_a_redelivered_erasure_once(
    engine: Engine, recorded: Recorded
) -> None:
    _erase(engine, recorded)
    with engine.connect() as conn:
        destroyed_at = conn.execute(
            select(case_keys.c.destroyed_at).where(case_keys.c.case_id == ERASED)
        ).scalar_one()

    with engine.begin() as conn:
        keys.KeyShredder().apply(conn, [])
        decoded, _ = decode_records(recorded.log.records[-1:])
        keys.KeyShredder().apply(conn, decoded)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(case_keys.c.destroyed_at).where(case_keys.c.case_id == ERASED)
            ).scalar_one()
            == destroyed_at
        )


# --- verify, after erasure ------------------------------------------------------------------


def test_a_bundle_exported_after_erasure_verifies_and_holds_no_text(
    engine: Engine, recorded: Recorded, tmp_path: Path
) -> None:
    key_path = tmp_path / "keys" / "checkpoint.pem"
    publish_checkpoint(engine, key_path, NOW, partitions=recorded.log.partitions)
    _erase(engine, recorded)
    publish_checkpoint(engine, key_path, NOW + timedelta(minutes=5),
                       partitions=recorded.log.partitions)  # fmt: skip

    exported = export_bundle(engine, tmp_path / "bundle.tar.gz", key_path)
    report = verify_bundle(exported.path)

    assert report.ok, report.render()
    assert (report.events, report.checkpoints) == (len(recorded.log.records), 2)
    with tarfile.open(exported.path) as tar:
        contents = b"".join(
            stream.read()
            for member in tar.getmembers()
            if (stream := tar.extractfile(member)) is not None
        )
    for text in (NARRATIVE, NOTE, OTHER):
        assert text.encode() not in contents
    assert all(s.encode() in contents for s in recorded.sealed[ERASED])


async def _produce(bootstrap: str, records: list[RawRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for partition, _, raw in sorted(records):
            await producer.send_and_wait(EVENTS, raw, partition=partition)
    finally:
        await producer.stop()


@pytest.mark.broker
def test_the_live_log_verifies_after_erasure(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    live = replace(settings, kafka_bootstrap_servers=broker.bootstrap)
    live.data_dir.mkdir(parents=True)
    engine = db.create(live.database_url)
    db.create_schema(engine)
    try:
        log = Log(partitions=live.topic_partitions)
        log.case(ERASED, "GAB")
        sealed = _texts_for(engine, log, ERASED, [NARRATIVE, NOTE])
        _apply(engine, log.records)
        recorded = Recorded(log, {ERASED: sealed})
        publish_checkpoint(engine, tmp_path / "key.pem", NOW, partitions=log.partitions)
        _erase(engine, recorded)
        publish_checkpoint(engine, tmp_path / "key.pem", NOW + timedelta(minutes=1),
                           partitions=log.partitions)  # fmt: skip
        ensure_topics(live)
        asyncio.run(_produce(broker.bootstrap, log.records))

        report = verify_live(engine, broker.bootstrap, live.topic_partitions)

        assert report.ok, report.render()
        assert report.events == len(log.records)
        assert _opened(engine, ERASED, sealed) == [("erased", None)] * 2
    finally:
        engine.dispose()
