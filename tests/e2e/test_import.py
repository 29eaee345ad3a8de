"""End to end: ``accountability import`` through the running stack (broker, worker, decider)."""

import csv
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.net import free_port

from accountability.events.envelope import decode_envelope
from accountability.events.policy import DEFAULT_POLICY
from accountability.projections.audit_log import audit_log
from accountability.projections.case_file import get_case
from accountability.services.import_rows import COLUMNS, read_rows
from accountability.services.importer import IMPORT_OFFICER, run_import, validate_file
from accountability.services.settings import Secret, Settings
from accountability.services.stack import EmbeddedStack
from accountability.services.store import audit_archive, command_results

pytestmark = [pytest.mark.slow, pytest.mark.broker]

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

ROW = {
    "reference": "E2E-IMPORT-1", "received": "2021-04", "mission": "MONUSCO", "category": "MC",
    "nationality": "NPL", "type": "SA", "incident_date": "2021-03", "victims_girls": "1",
    "perpetrators_men": "1", "investigating_entity": "NIO",
    "status": "Pending further investigation by the Member State",
    "referred_to_member_state": "yes",
}  # fmt: skip


def stack_settings(data_dir: Path) -> Settings:
    return replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=Secret(f"sqlite:///{data_dir / 'accountability.db'}"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        worker_id=f"accountability-e2e-{uuid.uuid4().hex[:8]}",
        command_timeout_seconds=20.0,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(stack_settings(tmp_path_factory.mktemp("import"))) as running:
        yield running


def write_csv(path: Path, *rows: dict[str, str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def archived(stack: EmbeddedStack, prefix: str) -> list[tuple[str, int, str, str]]:
    """(stream, sequence, type, actor) of every archived event of the matching cases."""
    assert stack.engine is not None
    with stack.engine.connect() as conn:
        raws = conn.execute(
            select(audit_archive.c.envelope)
            .where(audit_archive.c.stream_id.startswith(f"case:{prefix}"))
            .order_by(audit_archive.c.stream_id, audit_archive.c.sequence)
        ).scalars()
        envelopes = [decode_envelope(raw) for raw in raws]
    return [(e.stream_id, e.sequence, e.type, e.actor.principal_id) for e in envelopes]


def test_the_example_file_imports_and_importing_it_again_adds_nothing(
    stack: EmbeddedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.engine is not None
    expected = validate_file(EXAMPLES / "allegations.csv", None, datetime.now(UTC))

    status = run_import(stack.settings, EXAMPLES / "allegations.csv", dry_run=False, fmt=None)

    out, err = capsys.readouterr()
    assert status == 0, err
    events = archived(stack, "EXAMPLE-")
    assert len(events) == expected.commands  # one event per command
    assert {actor for *_, actor in events} == {IMPORT_OFFICER.principal_id}
    assert len({stream for stream, *_ in events}) == 13
    assert f"13 cases (13 new), {expected.commands} commands accepted, 0 already present" in out
    assert "import: 13/13 rows" in err
    now = datetime.now(UTC)
    rows, _ = read_rows(EXAMPLES / "allegations.csv")
    with stack.engine.connect() as conn:
        logged = conn.execute(
            select(func.count()).where(audit_log.c.stream_id.startswith("case:EXAMPLE-"))
        ).scalar_one()
        cases = {r.reference: get_case(conn, str(r.reference), DEFAULT_POLICY, now) for r in rows}
    assert logged == expected.commands
    assert {ref: view.un_status if view else None for ref, view in cases.items()} == {
        r.reference: r.status.value for r in rows
    }

    again = run_import(stack.settings, EXAMPLES / "allegations.ndjson", dry_run=False, fmt=None)

    out, err = capsys.readouterr()
    assert again == 0, err
    assert archived(stack, "EXAMPLE-") == events
    assert f"13 cases (0 new), 0 commands accepted, {expected.commands} already present" in out


@pytest.mark.parametrize(
    ("bad", "reported"),
    [
        pytest.param({"mission": "MINUSXX"}, "line 3, mission: unknown mission 'MINUSXX'",
                     id="parse-error"),
        pytest.param({"referred_to_member_state": "no"},
                     "line 3, investigating_entity: ReplyIntentToInvestigate rejected by the "
                     "decider (NOT_NOTIFIED, field member_state)", id="decider-rejection"),
    ],
)  # fmt: skip
def test_a_file_with_a_bad_row_writes_nothing_and_fails(
    stack: EmbeddedStack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bad: dict[str, str],
    reported: str,
) -> None:
    assert stack.engine is not None
    path = write_csv(
        tmp_path / "rows.csv",
        {**ROW, "reference": "E2E-BAD-GOOD"},
        {**ROW, "reference": "E2E-BAD-BAD", **bad},
    )

    status = run_import(stack.settings, path, dry_run=False, fmt=None)

    _, err = capsys.readouterr()
    assert status == 1
    assert reported in err
    assert "import refused: 1 invalid row(s)" in err
    assert archived(stack, "E2E-BAD-") == []
    with stack.engine.connect() as conn:
        answered = conn.execute(
            select(func.count()).where(command_results.c.stream_id.startswith("case:E2E-BAD-"))
        ).scalar_one()
    assert answered == 0


def test_an_updated_row_adds_only_its_new_facts_and_a_changed_fact_is_refused(
    stack: EmbeddedStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_csv(tmp_path / "first.csv", ROW)
    assert run_import(stack.settings, first, dry_run=False, fmt=None) == 0
    before = archived(stack, "E2E-IMPORT-")
    updated = write_csv(
        tmp_path / "updated.csv",
        {**ROW, "status": "Substantiated", "days_taken": "60", "victims_interviewed": "yes"},
    )
    changed = write_csv(tmp_path / "changed.csv", {**ROW, "type": "SE"})
    capsys.readouterr()

    status = run_import(stack.settings, updated, dry_run=False, fmt=None)

    out, err = capsys.readouterr()
    after = archived(stack, "E2E-IMPORT-")
    assert status == 0, err
    assert after[: len(before)] == before
    assert [t for _, _, t, _ in after[len(before) :]] == ["InvestigationConcluded"]
    assert f"1 commands accepted, {len(before)} already present" in out

    refused = run_import(stack.settings, changed, dry_run=False, fmt=None)

    _, err = capsys.readouterr()
    assert refused == 1
    assert "line 2, received: ReportAllegation differs from what an earlier import recorded" in err
    assert archived(stack, "E2E-IMPORT-") == after
