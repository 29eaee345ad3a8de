"""Bulk import of historical records: each row becomes the ordinary commands of one case.

Nothing reaches the log except through the decider. A dry run decides every row's
commands locally with the pure decider, each case from an empty state, and writes
nothing. A real run does the same first and refuses to start if any row is invalid;
then it checks the rows against what the store already holds, and submits the
commands not yet recorded through the :class:`CommandBus`, case by case, exactly as
the demo loader does. Case ids and command ids are deterministic (``docs/import.md``),
so importing the same file again adds nothing.
"""

import asyncio
import hashlib
import itertools
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from accountability.events import commands as c
from accountability.events.commands import Actor, CommandEnvelope, case_stream
from accountability.events.decider import StreamState, decide, evolve, initial_state
from accountability.events.envelope import decode_envelope, seal
from accountability.events.errors import Rejection, RejectionDetail
from accountability.events.types import CaseId, CommandId, CountryCode, StreamId
from accountability.events.vocabulary import (
    ClosureReason,
    DatePrecision,
    Finding,
    InterimAction,
    InvestigatingEntity,
    ProsecutionOutcome,
    Role,
    SanctionAuthority,
    SanctionKind,
    UnStatus,
)

from . import archive, credentials, db
from .api.bus import CommandBus, NotConfirmed
from .demo import wait_for_read_models
from .import_rows import (
    COLUMNS,
    FINDINGS,
    ActionItem,
    FinalAction,
    ImportFileError,
    Row,
    RowError,
    read_rows,
)
from .kafka import BrokerUnavailable
from .settings import Settings

Progress = Callable[[str], None]

IMPORT_OFFICER: Final = Actor("import-officer", Role.OFFICER)
"""The principal every imported command is submitted as."""

_COMMAND_NAMESPACE: Final = uuid.UUID("5d0c3f7e-2b8a-5e41-9c6d-8a1f4b2e7c30")
_CONCURRENT_STREAMS: Final = 64
_SUBMIT_ATTEMPTS: Final = 3
_HOUR: Final = timedelta(hours=1)

_SANCTIONS: Final = {
    FinalAction.DISMISSAL: SanctionKind.DISMISSAL,
    FinalAction.RANK_REDUCTION: SanctionKind.RANK_REDUCTION,
    FinalAction.IMPRISONMENT: SanctionKind.IMPRISONMENT,
    FinalAction.SUSPENSION: SanctionKind.SUSPENSION,
    FinalAction.FINE: SanctionKind.FINE,
    FinalAction.REPRIMAND: SanctionKind.REPRIMAND,
    FinalAction.BAN_FROM_FUTURE_SERVICE: SanctionKind.BAN_FROM_FUTURE_SERVICE,
    FinalAction.OTHER_SANCTION: SanctionKind.OTHER,
}
_PROSECUTIONS: Final = {
    FinalAction.CONVICTED: ProsecutionOutcome.CONVICTED,
    FinalAction.ACQUITTED: ProsecutionOutcome.ACQUITTED,
    FinalAction.PROSECUTION_DISMISSED: ProsecutionOutcome.DISMISSED,
}
_CLOSURES: Final = {
    UnStatus.NOT_SUBSTANTIATED: ClosureReason.INVESTIGATION_COMPLETED,
    UnStatus.CLOSED_OTHER: ClosureReason.OTHER_CIRCUMSTANCES,
}


# --- from rows to commands ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a case, named for its command id, with the column it comes from."""

    name: str
    column: str
    at: datetime
    command: c.Command


@dataclass(frozen=True, slots=True)
class CasePlan:
    line: int
    case_id: CaseId
    steps: tuple[Step, ...]

    @property
    def stream_id(self) -> StreamId:
        return case_stream(self.case_id)

    def envelopes(self, issued_at: datetime) -> list[tuple[Step, CommandEnvelope]]:
        return [
            (step, CommandEnvelope(
                command_id(self.case_id, step.name), f"import/{self.case_id}", IMPORT_OFFICER,
                issued_at, step.at, step.command,
            ))
            for step in self.steps
        ]  # fmt: skip


def command_id(case_id: str, step: str) -> CommandId:
    return CommandId(str(uuid.uuid5(_COMMAND_NAMESPACE, f"{case_id}/{step}")))


def case_id_for(row: Row, occurrence: int) -> CaseId:
    """The row's reference, else a digest of its facts at receipt and its occurrence."""
    if row.reference is not None:
        return CaseId(row.reference)
    digest = hashlib.sha256(f"{row.identity()}#{occurrence}".encode()).hexdigest()[:10]
    where = row.mission or row.entity.value.upper()
    return CaseId(f"IMP-{row.received:%Y-%m}-{where}-{digest}")


def plan_rows(rows: Iterable[Row]) -> tuple[list[CasePlan], list[RowError]]:
    plans: list[CasePlan] = []
    errors: list[RowError] = []
    occurrences: Counter[str] = Counter()
    lines: dict[CaseId, int] = {}
    for row in rows:
        if row.reference is None:
            occurrences[row.identity()] += 1
        case_id = case_id_for(row, occurrences[row.identity()])
        if case_id in lines:
            message = f"case '{case_id}' is already the case of line {lines[case_id]}"
            errors.append(RowError(row.line, "reference", message))
            continue
        lines[case_id] = row.line
        plan = plan_row(row, case_id)
        twice = _repeated_step(plan)
        if twice is not None:
            message = f"gives '{twice.name}' twice: one action named twice for one person"
            errors.append(RowError(row.line, twice.column, message))
            continue
        plans.append(plan)
    return plans, errors


def _repeated_step(plan: CasePlan) -> Step | None:
    """A step named twice would be one command id for two commands."""
    names: set[str] = set()
    for step in plan.steps:
        if step.name in names:
            return step
        names.add(step.name)
    return None


def received_at(row: Row) -> datetime:
    """Midnight UTC on the 1st of the month, or on the incident's day if later that month."""
    day = row.received
    incident = row.incident_date
    if (
        incident is not None
        and row.incident_precision is DatePrecision.DAY
        and (incident.year, incident.month) == (day.year, day.month)
    ):
        day = max(day, incident)
    return datetime.combine(day, clock(), UTC)


def plan_row(row: Row, case_id: CaseId) -> CasePlan:
    steps: list[Step] = []

    def add(name: str, column: str, at: datetime, command: c.Command) -> None:
        steps.append(Step(name, column, at, command))

    t0 = received_at(row)
    add("report", "received", t0, c.ReportAllegation(
        case_id, row.allegation_type, row.mission, row.incident_date, row.entity,
        row.entity_name, row.incident_precision,
    ))  # fmt: skip
    perpetrators: list[tuple[int, str]] = []
    for position, party in enumerate(row.parties, start=1):
        for pid, sex in party.perpetrators():
            perpetrators.append((position, pid))
            add(f"perpetrator/{pid}", "category", t0, c.IdentifyAllegedPerpetrator(
                case_id, party.category, party.nationality, sex, pid
            ))  # fmt: skip
    numbers = itertools.count(1)  # V1, V2, … in the order of the columns: never a name
    for group, count in row.victims:
        for vid in (f"V{next(numbers)}" for _ in range(count)):
            add(f"victim/{vid}", group.column, t0,
                c.RecordVictim(case_id, group.age_group, group.sex, vid))  # fmt: skip
    if row.referred:
        uniformed = dict.fromkeys(p.nationality for p in row.parties if p.category.uniformed)
        for ms in uniformed:
            add(f"notify/{ms}", "referred_to_member_state", t0 + _HOUR,
                c.NotifyMemberState(case_id, ms))  # fmt: skip
    opened = t0 + 2 * _HOUR
    if row.investigating_entity is not None:
        _investigation_steps(
            add, case_id, row.investigating_entity, row.investigating_state, opened
        )
    for item in row.interim_actions:
        for _, pid in _scope(item, perpetrators):
            add(f"interim/{pid}/{item.action.value}", "interim_actions", t0 + 3 * _HOUR,
                c.TakeInterimAction(case_id, pid, InterimAction(item.action)))  # fmt: skip
    only = perpetrators[0][1] if len(perpetrators) == 1 else None
    for n in range(1, row.paternity_claims + 1):
        add(f"paternity/PC{n}", "paternity_claims", t0 + 3 * _HOUR,
            c.FilePaternityClaim(case_id, only, f"PC{n}"))  # fmt: skip
    at = t0 + 3 * _HOUR
    if row.status in FINDINGS and row.days_taken is not None:
        at = opened + timedelta(days=row.days_taken)
        finding = (
            Finding.SUBSTANTIATED if row.status is UnStatus.SUBSTANTIATED
            else Finding.NOT_SUBSTANTIATED
        )  # fmt: skip
        add("investigation/I1/conclude", "days_taken", at, c.ConcludeInvestigation(
            case_id, "I1", finding, bool(row.victims_interviewed)
        ))  # fmt: skip
    for name, command in _final_actions(row, case_id, perpetrators):
        at += _HOUR
        add(name, "final_actions", at, command)
    published = max(s.at for s in steps) + _HOUR
    add("publish", "status", published, c.PublishCase(case_id, row.reference))
    closure = _CLOSURES.get(row.status)
    if closure is not None:
        add("close", "status", published + _HOUR, c.CloseCase(case_id, closure))
    return CasePlan(row.line, case_id, tuple(steps))


def _investigation_steps(
    add: Callable[[str, str, datetime, c.Command], None],
    case_id: CaseId,
    entity: InvestigatingEntity,
    state: CountryCode | None,
    at: datetime,
) -> None:
    """A national investigation implies the state's intent to investigate (and its NIO)."""
    column = "investigating_entity"
    if state is not None:
        add(f"reply/{state}", column, at, c.ReplyIntentToInvestigate(case_id, state))
        if entity is InvestigatingEntity.NIO:
            add(f"nio/{state}", column, at, c.AppointNationalInvestigationOfficer(case_id, state))
    add(
        "investigation/I1/open",
        column,
        at,
        c.OpenInvestigation(case_id, entity, state, False, "I1"),
    )


def _scope(item: ActionItem, perpetrators: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The (position, id) of each alleged perpetrator an action applies to."""
    return [(position, pid) for position, pid in perpetrators if item.party in (None, position)]


def _final_actions(
    row: Row, case_id: CaseId, perpetrators: Sequence[tuple[int, str]]
) -> Iterable[tuple[str, c.Command]]:
    """In the order of the world: repatriation, sanctions, referral, prosecution."""
    rank = {FinalAction.REPATRIATED: 0, **dict.fromkeys(_SANCTIONS, 1), FinalAction.REFERRED: 2}
    items = sorted(row.final_actions, key=lambda i: rank.get(FinalAction(i.action), 3))
    referred: set[str] = set()
    for item in items:
        action = FinalAction(item.action)
        for position, pid in _scope(item, perpetrators):
            party = row.parties[position - 1]
            if action is FinalAction.REPATRIATED:
                yield f"repatriation/{pid}", c.RepatriatePersonnel(case_id, pid)
            elif action in _SANCTIONS:
                by_un = (
                    action is FinalAction.BAN_FROM_FUTURE_SERVICE or not party.category.uniformed
                )
                authority = (
                    SanctionAuthority.UNITED_NATIONS if by_un else SanctionAuthority.MEMBER_STATE
                )
                yield (
                    f"sanction/{pid}/{action.value}",
                    c.ImposeSanction(case_id, pid, _SANCTIONS[action], authority, item.months),
                )
            else:
                if pid not in referred:  # a prosecution outcome implies the referral
                    referred.add(pid)
                    yield f"referral/{pid}", c.MakeCriminalReferral(case_id, pid)
                if action in _PROSECUTIONS:
                    yield (
                        f"prosecution/{pid}",
                        c.ConcludeProsecution(case_id, pid, _PROSECUTIONS[action], item.months),
                    )


# --- validation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Validation:
    rows: int
    plans: list[CasePlan]
    errors: list[RowError]

    @property
    def commands(self) -> int:
        return sum(len(p.steps) for p in self.plans)


def _rejected(line: int, step: Step, detail: RejectionDetail) -> RowError:
    field = f", field {detail.field}" if detail.field else ""
    message = (
        f"{type(step.command).__name__} rejected by the decider "
        f"({detail.code}{field}): {detail.message}"
    )
    column = detail.field if detail.field in COLUMNS else step.column
    return RowError(line, column, message, detail.code)


def _advance(state: StreamState, envelope: CommandEnvelope, now: datetime) -> StreamState:
    """Decide ``envelope`` against ``state`` and fold in its events; raises a Rejection."""
    for sealed, _ in seal(state.head, envelope, decide(state, envelope, now), now):
        state = evolve(state, sealed)
    return state


def decide_locally(plans: Iterable[CasePlan], now: datetime) -> list[RowError]:
    """Every case decided from an empty state with the pure decider; nothing is written."""
    errors: list[RowError] = []
    for plan in plans:
        state = initial_state(plan.stream_id)
        for step, envelope in plan.envelopes(now):
            try:
                state = _advance(state, envelope, now)
            except Rejection as rejection:
                errors.append(_rejected(plan.line, step, rejection.detail))
                break
    return errors


def validate_file(path: Path, fmt: str | None, now: datetime) -> Validation:
    rows, errors = read_rows(path, fmt)
    plans, duplicates = plan_rows(rows)
    errors += duplicates + decide_locally(plans, now)
    invalid = {e.line for e in errors}
    valid = [p for p in plans if p.line not in invalid]
    return Validation(len(rows) + len(invalid - {r.line for r in rows}), valid, sorted(
        errors, key=lambda e: e.line
    ))  # fmt: skip


# --- against the store --------------------------------------------------------------


@dataclass
class _Pending:
    plan: CasePlan
    todo: list[tuple[Step, CommandEnvelope]] = field(default_factory=list)
    present: int = 0


def preflight(engine: Engine, plans: Sequence[CasePlan], now: datetime) -> tuple[
    list[_Pending], list[RowError]
]:  # fmt: skip
    """What each case still needs, decided against what the store holds; nothing is written.

    A command already answered is not sent again: accepted with the same content it
    is already present; with other content, or rejected, the row cannot be imported.
    """
    stamped = [(plan, plan.envelopes(now)) for plan in plans]
    with engine.connect() as conn:
        stored = archive.find_results(conn, [e.command_id for _, es in stamped for _, e in es])
        streams = archive.load_streams(conn, [plan.stream_id for plan in plans])
    pending: list[_Pending] = []
    errors: list[RowError] = []
    for plan, envelopes in stamped:
        state = initial_state(plan.stream_id)
        for raw in streams.get(plan.stream_id, []):
            state = evolve(state, decode_envelope(raw))
        work = _Pending(plan)
        for step, envelope in envelopes:
            earlier = stored.get(envelope.command_id)
            if earlier is not None and earlier.fingerprint != archive.fingerprint(envelope):
                errors.append(RowError(plan.line, step.column, (
                    f"{envelope.type} differs from what an earlier import recorded in case "
                    f"{plan.case_id}; an import only adds: correct the recorded event instead"
                )))  # fmt: skip
                break
            if earlier is not None and earlier.result.rejection is not None:
                errors.append(_rejected(plan.line, step, earlier.result.rejection))
                break
            if earlier is not None:
                work.present += 1
                continue
            try:
                state = _advance(state, envelope, now)
            except Rejection as rejection:
                errors.append(_rejected(plan.line, step, rejection.detail))
                break
            work.todo.append((step, envelope))
        pending.append(work)
    return pending, sorted(errors, key=lambda e: e.line)


# --- submitting ---------------------------------------------------------------------


@dataclass
class _Outcome:
    accepted: int = 0
    new_cases: int = 0
    errors: list[RowError] = field(default_factory=list)


async def _submit_one(bus: CommandBus, envelope: CommandEnvelope) -> RejectionDetail | None:
    for attempt in range(1, _SUBMIT_ATTEMPTS + 1):
        try:
            result = await bus.submit(envelope)
        except NotConfirmed:
            if attempt == _SUBMIT_ATTEMPTS:
                raise
            continue  # the same command id is safe to send again
        return result.rejection
    raise AssertionError("unreachable")  # pragma: no cover


async def _submit_all(
    settings: Settings, pending: Sequence[_Pending], progress: Progress
) -> _Outcome:
    bus = CommandBus(settings)
    await asyncio.to_thread(bus.start)
    outcome = _Outcome()
    gate = asyncio.Semaphore(_CONCURRENT_STREAMS)
    started = last = time.monotonic()
    done = 0

    def report(final: bool = False) -> None:
        nonlocal last
        now = time.monotonic()
        if final or now - last >= 1.0:
            last = now
            rate = done / max(now - started, 1e-6)
            progress(f"import: {done}/{len(pending)} rows ({rate:,.0f} rows/s)")

    async def one_case(work: _Pending) -> None:
        nonlocal done
        async with gate:
            for step, envelope in work.todo:  # in order: each step builds on the one before
                rejection = await _submit_one(bus, envelope)
                if rejection is not None:
                    outcome.errors.append(_rejected(work.plan.line, step, rejection))
                    break
                outcome.accepted += 1
                outcome.new_cases += step.name == "report"
            done += 1
            report()

    try:
        await asyncio.gather(*(one_case(w) for w in pending))
    finally:
        await asyncio.to_thread(bus.stop)
    report(final=True)
    return outcome


def _ensure_import_officer(engine: Engine) -> None:
    with engine.begin() as conn:
        credentials.ensure_principal(
            conn,
            principal_id=IMPORT_OFFICER.principal_id,
            name="Bulk import of historical records",
            role=IMPORT_OFFICER.role,
            member_state=None,
            now=datetime.now(UTC),
        )


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _show(path: Path, errors: Sequence[RowError]) -> None:
    for error in errors:
        _stderr(f"{path}: {error}")


def run_import(
    settings: Settings,
    path: Path,
    *,
    dry_run: bool,
    fmt: str | None,
    progress: Progress = _stderr,
) -> int:
    """``accountability import FILE [--dry-run] [--format csv|ndjson]``; the exit status."""
    now = datetime.now(UTC)
    try:
        validation = validate_file(path, fmt, now)
    except ImportFileError as exc:
        _stderr(f"import: {exc}")
        return 1
    _show(path, validation.errors)
    invalid = len({e.line for e in validation.errors})
    if dry_run:
        print(
            f"dry run of {path}: {validation.rows} rows, {invalid} invalid; "
            f"{len(validation.plans)} cases and {validation.commands} commands decided locally; "
            "nothing was written"
        )
        return 1 if invalid else 0
    if invalid:
        _stderr(f"import refused: {invalid} invalid row(s) in {path}; nothing was imported")
        return 1
    engine = db.create(settings.database_url)
    try:
        db.create_schema(engine)
        return _import(settings, engine, path, validation, progress)
    finally:
        engine.dispose()


def _import(
    settings: Settings, engine: Engine, path: Path, validation: Validation, progress: Progress
) -> int:
    pending, conflicts = preflight(engine, validation.plans, datetime.now(UTC))
    if conflicts:
        _show(path, conflicts)
        rows = len({e.line for e in conflicts})
        _stderr(f"import refused: {rows} row(s) conflict with the store; nothing was imported")
        return 1
    present = sum(w.present for w in pending)
    outcome, caught_up = _Outcome(), True
    if any(w.todo for w in pending):
        _ensure_import_officer(engine)
        try:
            outcome = asyncio.run(_submit_all(settings, pending, progress))
        except (BrokerUnavailable, NotConfirmed) as exc:
            _stderr(f"import stopped: {exc}; run it again: what was recorded is not repeated")
            return 1
        _show(path, outcome.errors)
        caught_up = wait_for_read_models(engine)
    print(
        f"imported {path}: {validation.rows} rows, {len(pending)} cases "
        f"({outcome.new_cases} new), {outcome.accepted} commands accepted, "
        f"{present} already present"
        + (f", {len(outcome.errors)} row(s) rejected" if outcome.errors else "")
        + ("" if caught_up else "; the read models are still catching up")
    )
    return 1 if outcome.errors else 0
