"""Case history: every case, allegation unit, Member State follow-up and commitment,
in a version for each instant at which the log changed it.

The projection keeps each stream's events (``stream_events``) so that a correction
or a retraction, which changes an earlier event, can be folded in: the stream's
effective events are folded again as known at each new instant, and the rows that
changed get a new version. Case files, country records, the UN's statistics and the
transparency gaps are all read from these tables (``case_file.py``,
``country_record.py``, ``statistics.py``, ``gaps.py``).
"""

from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Final

from sqlalchemy import Connection, delete, select

from accountability.events.catalogue import EVENT_TYPES, EventCorrected, EventRetracted
from accountability.events.codec import (
    canonical_json,
    from_json_object,
    loads_object,
    to_json_object,
    upcast,
)
from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX
from accountability.events.upcasters import UPCASTERS

from . import country_figures as figures
from .case_rows import case_row, commitment_row, state_rows, unit_rows
from .casefold import (
    CaseFacts,
    Effective,
    StoredEvent,
    effective_events,
    fold_case,
    fold_commitments,
)
from .history_tables import (
    case_versions,
    commitment_versions,
    state_case_versions,
    stream_events,
    unit_versions,
)
from .runner import Record
from .sql import chunks, insert_ignoring_duplicates, select_chunk_size
from .versions import FROM, VersionWriter

KEPT_FOLDS: Final = 20_000
"""Case streams whose folded facts are kept between batches, the most recently used
(some 4 KB each, measured on the benchmark log)."""


def _stored(record: Record) -> StoredEvent:
    envelope = record.envelope
    return StoredEvent(
        sequence=envelope.sequence,
        event_id=envelope.event_id,
        type=envelope.type,
        schema_version=envelope.schema_version,
        payload=envelope.payload,
        occurred_at=envelope.occurred_at,
        recorded_at=envelope.recorded_at,
    )


def load_stream_events(conn: Connection, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
    """Each stream's events as this read model keeps them, in sequence order."""
    streams: dict[str, list[StoredEvent]] = defaultdict(list)
    for chunk in chunks(sorted(set(stream_ids)), select_chunk_size()):
        rows = conn.execute(
            select(stream_events)
            .where(stream_events.c.stream_id.in_(chunk))
            .order_by(stream_events.c.stream_id, stream_events.c.sequence)
        ).mappings()
        for row in rows:
            cls = EVENT_TYPES[row["type"]]
            data = upcast(
                row["type"], row["payload_version"], loads_object(row["payload"], "payload"),
                cls.schema_version, UPCASTERS,
            )  # fmt: skip
            streams[row["stream_id"]].append(
                StoredEvent(
                    sequence=row["sequence"],
                    event_id=row["event_id"],
                    type=row["type"],
                    schema_version=row["schema_version"],
                    payload=from_json_object(cls, data),
                    occurred_at=row["occurred_at"],
                    recorded_at=row["recorded_at"],
                )
            )
    return streams


@dataclass(frozen=True, slots=True)
class _Fold:
    """A case stream folded up to its last event, kept for the batch that brings more.

    It is used only while the case's current row in the database is the one it wrote
    (same last sequence, same start, same file), so a batch rolled back, a stream
    forgotten or a partition applied by another worker meanwhile makes it fold afresh.
    """

    facts: CaseFacts
    last_sequence: int
    last_recorded: datetime
    row_from: datetime
    detail: str


class CaseHistoryProjection:
    name: Final = "case_history"
    version: Final = 1
    tables: Final = (
        stream_events, case_versions, unit_versions, state_case_versions, commitment_versions,
        figures.country_figures, figures.country_investigation_days,
    )  # fmt: skip

    def __init__(self, kept_folds: int = KEPT_FOLDS) -> None:
        self._folds: OrderedDict[str, _Fold] = OrderedDict()
        self._kept_folds = kept_folds

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        mine: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            if record.envelope.stream_id.startswith((CASE_STREAM_PREFIX, STATE_STREAM_PREFIX)):
                mine[record.envelope.stream_id].append(record)
        if not mine:
            return
        case_ids = [
            s.removeprefix(CASE_STREAM_PREFIX) for s in mine if s.startswith(CASE_STREAM_PREFIX)
        ]
        states = [
            s.removeprefix(STATE_STREAM_PREFIX) for s in mine if s.startswith(STATE_STREAM_PREFIX)
        ]
        cases = VersionWriter(case_versions, ["case_id"], group="case_id")
        units = VersionWriter(
            unit_versions, ["case_id", "category", "nationality"], group="case_id"
        )
        follow_ups = VersionWriter(
            state_case_versions, ["member_state", "case_id"], group="case_id"
        )
        commitments = VersionWriter(commitment_versions, ["member_state"], group="member_state")
        cases.load(conn, "case_id", case_ids)
        units.load(conn, "case_id", case_ids)
        follow_ups.load(conn, "case_id", case_ids)
        commitments.load(conn, "member_state", states)
        folds = self._take_folds(case_ids, cases)
        stored = load_stream_events(conn, [s for s in mine if s not in folds])
        writers = _CaseWriters(cases, units, follow_ups)
        fresh_rows = []
        for stream_id, stream_records in mine.items():
            fold = folds.get(stream_id)
            known = stored.get(stream_id, [])
            last = fold.last_sequence if fold else known[-1].sequence if known else 0
            fresh: dict[int, StoredEvent] = {}
            for record in stream_records:
                if record.envelope.sequence > last:
                    fresh.setdefault(record.envelope.sequence, _stored(record))
            new = [fresh[n] for n in sorted(fresh)]
            fresh_rows += [_event_row(stream_id, e) for e in new]
            if stream_id.startswith(STATE_STREAM_PREFIX):
                code = stream_id.removeprefix(STATE_STREAM_PREFIX)
                events = known + new
                for at in sorted({e.recorded_at for e in new}):
                    row = commitment_row(fold_commitments(code, effective_events(events, at)))
                    commitments.put((code,), row, at)
                continue
            if fold is not None and new and not _continues(fold.last_recorded, new):
                fold, known = None, load_stream_events(conn, [stream_id]).get(stream_id, [])
            case_id = stream_id.removeprefix(CASE_STREAM_PREFIX)
            kept = writers.write(case_id, known, new, fold) if new else fold
            if kept is not None:
                self._keep(stream_id, kept)
        # Country figures move by what the cases whose follow-up rows change contribute.
        changed = follow_ups.changed_groups()
        partitions = {
            stream_id.removeprefix(CASE_STREAM_PREFIX): stream_records[0].partition
            for stream_id, stream_records in mine.items()
        }
        by_partition = _by_partition(follow_ups.stored_groups(changed), partitions)
        before = (
            figures.contribution(conn, by_partition) if by_partition else figures.Contribution()
        )
        insert_ignoring_duplicates(conn, stream_events, fresh_rows)
        for writer in (cases, units, follow_ups, commitments):
            writer.flush(conn)
        if changed:
            after = figures.contribution(conn, _by_partition(changed, partitions))
            figures.record_change(conn, before, after)

    def kept(self) -> int:
        """How many case folds are kept for the next batches."""
        return len(self._folds)

    def _take_folds(self, case_ids: Sequence[str], cases: VersionWriter) -> dict[str, _Fold]:
        """The kept folds of these cases that their stored rows vouch for.

        Each is taken out, and kept again once this batch has folded it further: its
        facts change in place, so one must not stay behind under its old sequence."""
        taken: dict[str, _Fold] = {}
        for case_id in case_ids:
            stream_id = CASE_STREAM_PREFIX + case_id
            fold = self._folds.pop(stream_id, None)
            row = cases.current((case_id,))
            if (
                fold is not None
                and row is not None
                and row["last_sequence"] == fold.last_sequence
                and row[FROM] == fold.row_from
                and row["detail"] == fold.detail
            ):
                taken[stream_id] = fold
        return taken

    def _keep(self, stream_id: str, fold: _Fold) -> None:
        self._folds[stream_id] = fold
        if len(self._folds) > self._kept_folds:
            self._folds.popitem(last=False)

    def forget(self, conn: Connection, stream_id: str, partition: int) -> None:
        """Delete every row of ``stream_id`` (in log ``partition``), every version
        included, to apply it afresh."""
        self._folds.pop(stream_id, None)
        conn.execute(delete(stream_events).where(stream_events.c.stream_id == stream_id))
        if stream_id.startswith(STATE_STREAM_PREFIX):
            code = stream_id.removeprefix(STATE_STREAM_PREFIX)
            conn.execute(
                delete(commitment_versions).where(commitment_versions.c.member_state == code)
            )
            return
        case_id = stream_id.removeprefix(CASE_STREAM_PREFIX)
        counted = figures.contribution(conn, {partition: [case_id]})
        figures.record_change(conn, counted, figures.Contribution())
        for table in (case_versions, unit_versions, state_case_versions):
            conn.execute(delete(table).where(table.c.case_id == case_id))


def _by_partition(case_ids: set[str], partitions: dict[str, int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for case_id in sorted(case_ids):
        found[partitions[case_id]].append(case_id)
    return found


def _continues(after: datetime, new: Sequence[StoredEvent]) -> bool:
    """Whether ``new`` only adds to a stream last recorded at ``after``: no correction or
    retraction, each recorded no earlier than every event before it. Then the effective
    events at each new instant are those before it and the new ones, as they are."""
    for event in new:
        if isinstance(event.payload, EventCorrected | EventRetracted) or event.recorded_at < after:
            return False
        after = event.recorded_at
    return True


@dataclass(frozen=True, slots=True)
class _CaseWriters:
    cases: VersionWriter
    units: VersionWriter
    follow_ups: VersionWriter

    def write(
        self, case_id: str, known: list[StoredEvent], new: list[StoredEvent], fold: _Fold | None
    ) -> _Fold | None:
        """Write the case's rows at each instant at which ``new`` events were recorded,
        after the ``known`` ones or the kept ``fold``; return the fold to keep."""
        facts: CaseFacts | None
        if fold is not None:
            facts, incremental = fold.facts, True
        else:
            after = max((e.recorded_at for e in known), default=new[0].recorded_at)
            incremental = _continues(after, new)
            facts = fold_case(effective_events(known)) if incremental else None
        if incremental:
            for at, group in groupby(new, key=lambda e: e.recorded_at):
                added = [Effective(e.sequence, e.event_id, e.payload, e.occurred_at) for e in group]
                facts = fold_case(added, facts)
                self._write(case_id, facts, at, added[-1].sequence)
        else:
            events = known + new
            for at in sorted({e.recorded_at for e in new}):
                facts = fold_case(effective_events(events, as_of=at))
                last = max(e.sequence for e in events if e.recorded_at <= at)
                self._write(case_id, facts, at, last)
        row = self.cases.current((case_id,))
        if facts is None or row is None:
            return None
        last_recorded = max(e.recorded_at for e in new)
        return _Fold(facts, new[-1].sequence, last_recorded, row[FROM], row["detail"])

    def _write(
        self, case_id: str, facts: CaseFacts | None, at: datetime, last_sequence: int
    ) -> None:
        if facts is None:
            # Never reported, or its report retracted: the case leaves every read model.
            for writer in (self.cases, self.units, self.follow_ups):
                for key in writer.keys_in(case_id):
                    writer.retire(key, at)
            return
        self.cases.put((case_id,), {**case_row(facts), "last_sequence": last_sequence}, at)
        for writer, rows in ((self.units, unit_rows(facts)), (self.follow_ups, state_rows(facts))):
            for key in writer.keys_in(case_id) - rows.keys():
                writer.retire(key, at)
            for key, row in rows.items():
                writer.put(key, row, at)


def _event_row(stream_id: str, event: StoredEvent) -> dict[str, object]:
    return {
        "stream_id": stream_id,
        "sequence": event.sequence,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "payload_version": type(event.payload).schema_version,
        "payload": canonical_json(to_json_object(event.payload)).decode("utf-8"),
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
    }
