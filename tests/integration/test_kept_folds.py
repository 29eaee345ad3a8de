"""The case history keeps each case's fold between batches (``case_history._Fold``).

A kept fold saves reading and folding a stream again, but it must never outlive the
rows it was made with: every test here compares the read models with those built by
projections that keep nothing (a new set for each batch), row for row.
"""

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from support.domain import T0, Log, command
from support.read_models import apply, snapshot

from accountability.events import commands as c
from accountability.events.types import CaseId, CountryCode, StreamId
from accountability.events.vocabulary import AgeGroup, Sex
from accountability.projections import all_projections
from accountability.projections.audit_log import AuditLogProjection
from accountability.projections.case_history import CaseHistoryProjection
from accountability.projections.ledger import LedgerProjection
from accountability.projections.runner import Projection, RawRecord, apply_batch
from accountability.services import db


@pytest.fixture(scope="module")
def records() -> list[RawRecord]:
    """Three cases, one corrected and then continued, one with a victim retracted."""
    log = Log(recorded_when_occurred=True)
    for n, state in enumerate(["GAB", "RWA", "NPL"]):
        log.case(f"F-{n}", state, at=T0 + timedelta(days=n))
    later = T0 + timedelta(days=400)
    identified = next(
        e for e in log.envelopes
        if e.type == "AllegedPerpetratorIdentified" and e.stream_id == "case:F-0"
    )  # fmt: skip
    payload = {"perpetrator_id": "P1", "category": "FPU", "nationality": "GAB", "sex": "male"}
    correction = json.dumps(payload, sort_keys=True)
    log.submit(command(
        c.CorrectEvent(StreamId("case:F-0"), identified.event_id, correction, "mistyped"),
        at=later,
    ))  # fmt: skip
    log.submit(command(
        c.RecordVictim(CaseId("F-0"), AgeGroup.ADULT, Sex.FEMALE), at=later + timedelta(days=1)
    ))  # fmt: skip
    victim = next(e for e in log.envelopes if e.type == "VictimRecorded" and "F-1" in e.stream_id)
    log.submit(command(
        c.RetractEvent(StreamId("case:F-1"), victim.event_id, "recorded twice"),
        at=later + timedelta(days=2),
    ))  # fmt: skip
    log.submit(command(
        c.RequestFollowUp(CaseId("F-1"), CountryCode("RWA")), at=later + timedelta(days=3)
    ))  # fmt: skip
    log.submit(command(
        c.RequestFollowUp(CaseId("F-2"), CountryCode("NPL")), at=later + timedelta(days=4)
    ))  # fmt: skip
    return log.records


Snapshot = dict[str, list[tuple[Any, ...]]]


def batches(records: Sequence[RawRecord], size: int) -> list[list[RawRecord]]:
    return [list(records[start : start + size]) for start in range(0, len(records), size)]


def applied(engine: Engine, projections: Sequence[Projection], batch: list[RawRecord]) -> None:
    with engine.begin() as conn:
        apply_batch(conn, projections, batch)


@pytest.fixture
def reference(tmp_path_factory: pytest.TempPathFactory, records: list[RawRecord]) -> Snapshot:
    """The rows of projections that fold every stream afresh at every batch."""
    engine = db.create(f"sqlite:///{tmp_path_factory.mktemp('reference') / 'r.db'}")
    db.create_schema(engine)
    apply(engine, records, batch=3)
    return snapshot(engine)


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_kept_folds_give_the_rows_of_folding_afresh(
    engine: Engine, records: list[RawRecord], reference: Snapshot, size: int
) -> None:
    projections = all_projections()
    for batch in batches(records, size):
        applied(engine, projections, batch)

    assert snapshot(engine) == reference


def test_a_batch_rolled_back_leaves_no_fold_behind(
    engine: Engine, records: list[RawRecord], reference: Snapshot
) -> None:
    projections = all_projections()
    parts = batches(records, 3)
    for number, batch in enumerate(parts):
        if number % 2:
            with engine.connect() as conn, conn.begin() as transaction:
                apply_batch(conn, projections, batch)
                transaction.rollback()
        applied(engine, projections, batch)

    assert snapshot(engine) == reference


def test_a_stream_applied_by_another_worker_meanwhile_is_folded_afresh(
    engine: Engine, records: list[RawRecord], reference: Snapshot
) -> None:
    # Two workers that the partitions move between, one batch each in turn.
    workers = [all_projections(), all_projections()]
    for number, batch in enumerate(batches(records, 3)):
        applied(engine, workers[number % 2], batch)

    assert snapshot(engine) == reference


def test_folds_kept_are_bounded(
    engine: Engine, records: list[RawRecord], reference: Snapshot
) -> None:
    history_projection = CaseHistoryProjection(kept_folds=1)
    projections: list[Projection] = [AuditLogProjection(), history_projection, LedgerProjection()]
    for batch in batches(records, 2):
        applied(engine, projections, batch)

    assert snapshot(engine) == reference
    assert history_projection.kept() == 1
