"""Bulk import: rows parsed, checked, planned as commands and decided locally."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from accountability.events import commands as c
from accountability.events.vocabulary import (
    AllegationType,
    ClosureReason,
    DatePrecision,
    EntityKind,
    InterimAction,
    ProsecutionOutcome,
    SanctionAuthority,
    SanctionKind,
    UnStatus,
)
from accountability.services.import_rows import COLUMNS, ImportFileError, RowError, parse_text
from accountability.services.importer import (
    IMPORT_OFFICER,
    CasePlan,
    decide_locally,
    plan_rows,
    run_import,
    validate_file,
)
from accountability.services.settings import Settings

NOW = datetime(2025, 6, 1, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

BASE = {
    "received": "2019-03", "mission": "MINUSCA", "category": "MC", "nationality": "GAB",
    "type": "SA", "incident_date": "2019-02", "victims_girls": "1", "perpetrators_men": "1",
    "investigating_entity": "NIO", "days_taken": "120", "victims_interviewed": "yes",
    "status": "Substantiated", "referred_to_member_state": "yes",
}  # fmt: skip


def row(**changes: str) -> dict[str, str]:
    return {**BASE, **changes}


def csv_text(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def check(*rows: dict[str, str]) -> tuple[list[CasePlan], list[RowError]]:
    """Parse, plan and decide ``rows`` (the first is on line 2) as a dry run does."""
    parsed, errors = parse_text(csv_text(*rows), "csv")
    plans, duplicates = plan_rows(parsed)
    return plans, errors + duplicates + decide_locally(plans, NOW)


def one(**changes: str) -> CasePlan:
    plans, errors = check(row(**changes))
    assert errors == []
    return plans[0]


def steps(plan: CasePlan) -> list[str]:
    return [step.name for step in plan.steps]


def commands(plans: list[CasePlan]) -> list[tuple[str, datetime, c.Command]]:
    return [(e.command_id, e.occurred_at, e.command) for p in plans for _, e in p.envelopes(NOW)]


def identities(plans: list[CasePlan]) -> set[tuple[str, c.Command]]:
    """What makes a command the same one again: its id and content, not its instant."""
    return {(e.command_id, e.command) for p in plans for _, e in p.envelopes(NOW)}


# --- the example files --------------------------------------------------------------


@pytest.mark.parametrize("name", ["allegations.csv", "allegations.ndjson"])
def test_the_example_files_dry_run_clean(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = Settings.from_env({"ACCOUNTABILITY_DATA_DIR": str(tmp_path)})

    status = run_import(settings, EXAMPLES / name, dry_run=True, fmt=None)

    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert "13 rows, 0 invalid" in out
    assert "nothing was written" in out
    assert list(tmp_path.iterdir()) == []


def test_csv_and_ndjson_give_the_same_commands() -> None:
    from_csv = validate_file(EXAMPLES / "allegations.csv", None, NOW)
    from_ndjson = validate_file(EXAMPLES / "allegations.ndjson", None, NOW)

    assert from_csv.errors == from_ndjson.errors == []
    assert len(from_csv.plans) == 13
    assert commands(from_csv.plans) == commands(from_ndjson.plans)


def test_every_example_is_marked_as_one() -> None:
    plans = validate_file(EXAMPLES / "allegations.csv", None, NOW).plans

    assert all(p.case_id.startswith("EXAMPLE-") for p in plans)


# --- from a row to commands ---------------------------------------------------------


def test_a_row_becomes_the_ordinary_commands_of_its_case() -> None:
    plan = one(reference="UN-1")

    assert steps(plan) == [
        "report", "perpetrator/GAB-MC-M1", "victim/V1", "notify/GAB", "reply/GAB", "nio/GAB",
        "investigation/I1/open", "investigation/I1/conclude", "publish",
    ]  # fmt: skip
    assert plan.case_id == "UN-1"
    assert plan.steps[-1].command == c.PublishCase(plan.case_id, "UN-1")
    assert {e.actor for _, e in plan.envelopes(NOW)} == {IMPORT_OFFICER}


def test_instants_follow_the_receipt_and_the_days_taken() -> None:
    plan = one(days_taken="95")
    at = {step.name: step.at for step in plan.steps}

    assert at["report"] == datetime(2019, 3, 1, tzinfo=UTC)
    assert at["notify/GAB"] == at["report"] + timedelta(hours=1)
    assert at["investigation/I1/conclude"] - at["investigation/I1/open"] == timedelta(days=95)
    assert at["publish"] > at["investigation/I1/conclude"]


def test_an_incident_later_in_the_month_received_moves_the_receipt_to_that_day() -> None:
    plan = one(received="2019-03", incident_date="2019-03-17")
    report = plan.steps[0]

    assert report.at == datetime(2019, 3, 17, tzinfo=UTC)
    assert report.command == c.ReportAllegation(
        plan.case_id, AllegationType.SEXUAL_ABUSE, "MINUSCA", date(2019, 3, 17),
        EntityKind.PEACEKEEPING, None, DatePrecision.DAY,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("2018-07-04", (date(2018, 7, 4), DatePrecision.DAY), id="day"),
        pytest.param("2018-07", (date(2018, 7, 1), DatePrecision.MONTH), id="month"),
        pytest.param("2018", (date(2018, 1, 1), DatePrecision.YEAR), id="year"),
        pytest.param("", (None, DatePrecision.UNKNOWN), id="unknown"),
    ],
)
def test_the_incident_date_carries_its_precision(
    given: str, expected: tuple[date | None, DatePrecision]
) -> None:
    report = one(incident_date=given).steps[0].command

    assert isinstance(report, c.ReportAllegation)
    assert (report.incident_date, report.incident_date_precision) == expected


@pytest.mark.parametrize(
    ("status", "closure"),
    [
        pytest.param("Not substantiated", ClosureReason.INVESTIGATION_COMPLETED, id="unfounded"),
        pytest.param("Closed under other circumstances", ClosureReason.OTHER_CIRCUMSTANCES,
                     id="other"),
    ],
)  # fmt: skip
def test_closed_statuses_close_the_case_last(status: str, closure: ClosureReason) -> None:
    changes = {"status": status}
    if status.startswith("Closed"):
        changes |= {"days_taken": "", "victims_interviewed": "", "investigating_entity": "OIOS"}
    plan = one(**changes)

    assert steps(plan)[-2:] == ["publish", "close"]
    assert plan.steps[-1].command == c.CloseCase(plan.case_id, closure)


def test_victims_are_recorded_by_group_with_their_age_group_and_sex() -> None:
    plan = one(victims_women="2", victims_girls="", victims_sex_unknown="1")
    victims = [s.command for s in plan.steps if isinstance(s.command, c.RecordVictim)]

    assert [(v.victim_id, v.age_group.value, v.sex.value) for v in victims] == [
        ("V1", "adult", "female"), ("V2", "adult", "female"), ("V3", "unknown", "unknown"),
    ]  # fmt: skip


def test_several_categories_and_nationalities_align_by_position() -> None:
    plan = one(
        category="MC;FPU", nationality="GAB;Cameroon", perpetrators_men="2;0",
        perpetrators_women="0;1", investigating_entity="NIO:GAB",
        interim_actions="2:payments_suspended",
    )  # fmt: skip

    assert [s for s in steps(plan) if s.startswith(("perpetrator", "notify", "interim"))] == [
        "perpetrator/GAB-MC-M1", "perpetrator/GAB-MC-M2", "perpetrator/CMR-FPU-W1",
        "notify/GAB", "notify/CMR", "interim/CMR-FPU-W1/payments_suspended",
    ]  # fmt: skip


def test_one_nationality_applies_to_every_category() -> None:
    plan = one(category="MC;MO", nationality="URY", perpetrators_men="1;1",
               investigating_entity="NIO")  # fmt: skip

    assert [s for s in steps(plan) if s.startswith("perpetrator")] == [
        "perpetrator/URY-MC-M1", "perpetrator/URY-MO-M1",
    ]  # fmt: skip


def test_without_counts_each_position_has_one_perpetrator_of_unknown_sex() -> None:
    plan = one(perpetrators_men="")

    assert "perpetrator/GAB-MC-U1" in steps(plan)


def test_final_actions_map_to_their_commands_in_the_order_of_the_world() -> None:
    plan = one(
        interim_actions="payments_suspended",
        final_actions="convicted=18;rank_reduction;repatriated",
    )
    tail = [s.command for s in plan.steps if s.column in ("interim_actions", "final_actions")]

    assert tail == [
        c.TakeInterimAction(plan.case_id, "GAB-MC-M1", InterimAction.PAYMENTS_SUSPENDED),
        c.RepatriatePersonnel(plan.case_id, "GAB-MC-M1"),
        c.ImposeSanction(plan.case_id, "GAB-MC-M1", SanctionKind.RANK_REDUCTION),
        c.MakeCriminalReferral(plan.case_id, "GAB-MC-M1"),
        c.ConcludeProsecution(plan.case_id, "GAB-MC-M1", ProsecutionOutcome.CONVICTED, 18),
    ]


def test_civilian_staff_and_bans_are_sanctioned_by_the_un() -> None:
    plan = one(
        category="INT", nationality="KEN", investigating_entity="OIOS",
        referred_to_member_state="no", final_actions="dismissal;ban_from_future_service",
    )  # fmt: skip
    sanctions = [s.command for s in plan.steps if isinstance(s.command, c.ImposeSanction)]

    assert {s.imposed_by for s in sanctions} == {SanctionAuthority.UNITED_NATIONS}


@pytest.mark.parametrize(
    ("changes", "perpetrator"),
    [
        pytest.param({}, "GAB-MC-M1", id="one-perpetrator"),
        pytest.param({"perpetrators_men": "2"}, None, id="several"),
    ],
)
def test_paternity_claims_name_the_perpetrator_only_when_there_is_one(
    changes: dict[str, str], perpetrator: str | None
) -> None:
    plan = one(paternity_claims="2", **changes)
    claims = [s.command for s in plan.steps if isinstance(s.command, c.FilePaternityClaim)]

    assert [(x.claim_id, x.perpetrator_id) for x in claims] == [
        ("PC1", perpetrator), ("PC2", perpetrator),
    ]  # fmt: skip


# --- values accepted ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "code"),
    [
        pytest.param("GAB", "GAB", id="code"),
        pytest.param("gab", "GAB", id="code-lower-case"),
        pytest.param("Gabon", "GAB", id="name"),
        pytest.param("Côte d'Ivoire", "CIV", id="accented-name"),
        pytest.param("cote d\u2019ivoire", "CIV", id="unaccented-name"),
        pytest.param("Democratic Republic of the Congo", "COD", id="uninverted-name"),
        pytest.param("Congo", "COG", id="short-name"),
    ],
)
def test_a_nationality_is_a_code_or_an_english_name(given: str, code: str) -> None:
    plan = one(nationality=given, category="OTHER", investigating_entity="OIOS",
               referred_to_member_state="no")  # fmt: skip

    identified = plan.steps[1].command
    assert isinstance(identified, c.IdentifyAllegedPerpetrator)
    assert identified.nationality == code


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("Under review – limited information", id="un-wording"),  # noqa: RUF001
        pytest.param("under review - limited information", id="ascii-dash"),
        pytest.param("LIMITED_INFORMATION", id="name"),
    ],
)
def test_the_un_status_is_read_in_its_wording_or_by_name(given: str) -> None:
    parsed, errors = parse_text(csv_text(row(
        status=given, category="", nationality="", perpetrators_men="", investigating_entity="",
        days_taken="", victims_interviewed="", referred_to_member_state="no",
    )), "csv")  # fmt: skip

    assert errors == []
    assert parsed[0].status is UnStatus.LIMITED_INFORMATION


# --- bad rows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "column", "fragment"),
    [
        pytest.param({"mission": "MINUSXX"}, "mission", "unknown mission 'MINUSXX'",
                     id="unknown-mission"),
        pytest.param({"received": "2019-13"}, "received", "not a month", id="bad-month"),
        pytest.param({"received": "March 2019"}, "received", "not a month", id="month-in-words"),
        pytest.param({"incident_date": "2019-02-30"}, "incident_date", "is not YYYY-MM-DD",
                     id="bad-date"),
        pytest.param({"victims_girls": "two"}, "victims_girls", "not a whole number",
                     id="count-in-words"),
        pytest.param({"victims_girls": "1.5"}, "victims_girls", "not a whole number",
                     id="fractional-count"),
        pytest.param({"victims_girls": "-1"}, "victims_girls", "not a whole number",
                     id="negative-count"),
        pytest.param({"victims_girls": "5000"}, "victims_girls", "more than 1000",
                     id="implausible-count"),
        pytest.param({"category": "Army"}, "category", "unknown category of personnel 'Army'",
                     id="unknown-category"),
        pytest.param({"nationality": "XYZ"}, "nationality", "unknown nationality 'XYZ'",
                     id="unknown-nationality"),
        pytest.param({"type": "SX"}, "type", "unknown type 'SX'", id="unknown-type"),
        pytest.param({"status": "Open"}, "status", "unknown status 'Open'", id="unknown-status"),
        pytest.param({"referred_to_member_state": "maybe"}, "referred_to_member_state",
                     "not yes or no", id="not-yes-or-no"),
        pytest.param({"investigating_entity": "FBI"}, "investigating_entity",
                     "unknown investigating entity 'FBI'", id="unknown-investigator"),
        pytest.param({"days_taken": ""}, "days_taken", "gives the days", id="finding-no-days"),
        pytest.param({"victims_interviewed": ""}, "victims_interviewed", "yes or no",
                     id="finding-no-interview"),
        pytest.param({"status": "Under investigation", "investigating_entity": "OIOS",
                      "victims_interviewed": ""}, "days_taken", "goes with a finding",
                     id="days-without-finding"),
        pytest.param({"status": "Under investigation", "days_taken": "",
                      "victims_interviewed": ""}, "investigating_entity",
                     "'Pending further investigation by the Member State'",
                     id="national-investigation-is-pending"),
        pytest.param({"status": "Under preliminary assessment", "days_taken": "",
                      "victims_interviewed": ""}, "investigating_entity", "no investigation yet",
                     id="investigator-before-investigation"),
        pytest.param({"status": "Under review – limited information",  # noqa: RUF001
                      "investigating_entity": "", "days_taken": "", "victims_interviewed": ""},
                     "category", "no identified alleged perpetrator", id="limited-but-identified"),
        pytest.param({"category": "MC;FPU", "nationality": "GAB;CMR;NER"}, "nationality",
                     "2 categories and 3 nationalities", id="unaligned-lists"),
        pytest.param({"category": "MC;FPU", "nationality": "GAB;CMR"}, "perpetrators_men",
                     "1 value(s) for 2 positions", id="unaligned-counts"),
        pytest.param({"category": "MC;FPU", "nationality": "GAB;CMR", "perpetrators_men": "1;1"},
                     "investigating_entity", "say which state investigates",
                     id="which-state-investigates"),
        pytest.param({"category": "MC;;FPU"}, "category", "empty entry", id="empty-entry"),
        pytest.param({"category": "INT", "nationality": "KEN", "investigating_entity": "OIOS"},
                     "referred_to_member_state", "only uniformed personnel are referred",
                     id="civilian-referred"),
        pytest.param({"final_actions": "jailed"}, "final_actions", "unknown action 'jailed'",
                     id="unknown-action"),
        pytest.param({"final_actions": "imprisonment"}, "final_actions", "needs its months",
                     id="imprisonment-without-months"),
        pytest.param({"final_actions": "repatriated=3"}, "final_actions", "takes no months",
                     id="months-on-repatriation"),
        pytest.param({"interim_actions": "3:payments_suspended"}, "interim_actions",
                     "position 3 is not one of the row's 1 positions", id="no-such-position"),
        pytest.param({"entity": "agency_fund_programme", "mission": ""}, "entity_name",
                     "names it", id="agency-without-name"),
        pytest.param({"entity": "embassy"}, "entity", "unknown entity kind", id="unknown-entity"),
        pytest.param({"reference": "MINUSCA/2019/1"}, "reference", "must be 1 to 64 letters",
                     id="reference-not-an-id"),
    ],
)  # fmt: skip
def test_a_bad_value_is_reported_with_its_line_and_column(
    changes: dict[str, str], column: str, fragment: str
) -> None:
    plans, errors = check(row(reference="GOOD-1"), row(**changes), row(reference="GOOD-2"))

    assert [p.case_id for p in plans] == ["GOOD-1", "GOOD-2"]
    assert [(e.line, e.column) for e in errors] == [(3, column)], errors
    assert fragment in errors[0].message
    assert errors[0].code is None


@pytest.mark.parametrize(
    ("changes", "column", "code", "field"),
    [
        pytest.param({"incident_date": "2019-05"}, "incident_date", "OUT_OF_ORDER",
                     "incident_date", id="incident-after-receipt"),
        pytest.param({"received": "2026-01"}, "received", "FUTURE_DATE", "occurred_at",
                     id="received-in-the-future"),
        pytest.param({"received": "2025-03", "incident_date": "", "days_taken": "400"},
                     "days_taken", "FUTURE_DATE", "occurred_at", id="concluded-in-the-future"),
        pytest.param({"referred_to_member_state": "no"}, "investigating_entity", "NOT_NOTIFIED",
                     "member_state", id="national-investigation-unnotified"),
        pytest.param({"category": "INT", "nationality": "KEN", "investigating_entity": "OIOS",
                      "referred_to_member_state": "no", "final_actions": "repatriated"},
                     "final_actions", "NOT_UNIFORMED", "perpetrator_id", id="civilian-repatriated"),
        pytest.param({"status": "Not substantiated", "final_actions": "dismissal"},
                     "final_actions", "NOT_SUBSTANTIATED", "case_id", id="sanction-unfounded"),
        pytest.param({"entity": "special_political"}, "entity", "INVALID_VALUE", "entity",
                     id="mission-of-another-kind"),
        pytest.param({"status": "Closed under other circumstances", "days_taken": "",
                      "victims_interviewed": "", "investigating_entity": "OIOS",
                      "final_actions": "referred"}, "final_actions", "NOT_SUBSTANTIATED",
                     "case_id", id="referral-without-finding"),
    ],
)  # fmt: skip
def test_a_rejection_by_the_decider_names_the_rule_and_the_field(
    changes: dict[str, str], column: str, code: str, field: str
) -> None:
    _, errors = check(row(reference="GOOD-1"), row(**changes))

    assert [(e.line, e.column, e.code) for e in errors] == [(3, column, code)], errors
    assert f"({code}, field {field})" in errors[0].message
    assert errors[0].message.startswith(("ReportAllegation", "ReplyIntent", "Conclude",
                                         "Repatriate", "Impose", "MakeCriminal"))  # fmt: skip


def test_every_invalid_row_is_reported_and_the_dry_run_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(csv_text(
        row(reference="R-1"), row(reference="R-2", mission="MINUSXX"), row(reference="R-3"),
        row(reference="R-4", referred_to_member_state="no"), row(reference="R-3"),
    ), encoding="utf-8")  # fmt: skip

    status = run_import(Settings.from_env({}), path, dry_run=True, fmt=None)

    out, err = capsys.readouterr()
    assert status == 1
    assert err.splitlines() == [
        f"{path}: line 3, mission: unknown mission 'MINUSXX'",
        f"{path}: line 5, investigating_entity: ReplyIntentToInvestigate rejected by the decider "
        "(NOT_NOTIFIED, field member_state): GAB has not been notified of case R-4",
        f"{path}: line 6, reference: case 'R-3' is already the case of line 4",
    ]
    assert "5 rows, 3 invalid" in out


def test_lines_count_from_the_header_including_blank_lines_and_quoted_newlines() -> None:
    text = (
        csv_text(row(reference="A"))
        + "\n"
        + csv_text(
            row(
                reference="B",
                entity="agency_fund_programme",
                entity_name="Fund\n(fictional)",
                mission="",
            )
        ).split("\n", 1)[1]
        + csv_text(row(reference="C", mission="NOPE")).split("\n", 1)[1]
    )

    _, errors = parse_text(text, "csv")

    assert [(e.line, e.column) for e in errors] == [(6, "mission")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        pytest.param("received,type,status,colour", "unknown column(s): colour", id="unknown"),
        pytest.param("received,type", "missing column(s): status", id="missing"),
    ],
)
def test_a_bad_header_is_reported_on_line_1(header: str, message: str) -> None:
    rows, errors = parse_text(f"{header}\n2019-01,SA,Substantiated\n", "csv")

    assert rows == []
    assert [(e.line, e.message) for e in errors] == [(1, message)]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        pytest.param('{"received": "2019-03",', "not a JSON object", id="not-json"),
        pytest.param('["2019-03"]', "not a JSON object", id="array"),
        pytest.param('{"received": "2019-03", "type": "SA"}', "missing column(s): status",
                     id="missing-column"),
        pytest.param('{"received": "2019-03", "type": "SA", "status": "Substantiated", "x": 1}',
                     "unknown column(s): x", id="unknown-column"),
        pytest.param('{"received": "2019-03", "type": "SA", "status": "Open", "victims_men": 1.0}',
                     "1.0 is not a whole number", id="float-count"),
        pytest.param('{"received": "2019-03", "type": {"code": "SA"}, "status": "Open"}',
                     "must be a string, number, boolean or list", id="nested-object"),
    ],
)  # fmt: skip
def test_a_bad_ndjson_line_is_reported_with_its_number(line: str, fragment: str) -> None:
    good = (
        '{"reference": "N-1", "received": "2019-03", "mission": "MINUSCA", "category": "MC",'
        ' "nationality": "GAB", "type": "SA", "status": "Under preliminary assessment"}'
    )
    rows, errors = parse_text(f"{good}\n\n{line}\n", "ndjson")

    assert [r.reference for r in rows] == ["N-1"]
    assert [e.line for e in errors] == [3]
    assert fragment in str(errors[0])


def test_a_file_of_unknown_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rows.txt"
    path.write_text(csv_text(row()), encoding="utf-8")

    status = run_import(Settings.from_env({}), path, dry_run=True, fmt=None)

    assert status == 1
    assert "give --format csv or ndjson" in capsys.readouterr().err
    assert run_import(Settings.from_env({}), path, dry_run=True, fmt="csv") == 0
    with pytest.raises(ImportFileError, match="unknown format 'xml'"):
        validate_file(path, "xml", NOW)


# --- case ids and command ids -------------------------------------------------------


def test_a_reference_is_the_case_id() -> None:
    assert one(reference="MINUSCA-2019-0007").case_id == "MINUSCA-2019-0007"


def test_identical_rows_without_reference_are_distinct_cases() -> None:
    plans, errors = check(row(), row())

    assert errors == []
    assert len({p.case_id for p in plans}) == 2
    assert all(p.case_id.startswith("IMP-2019-03-MINUSCA-") for p in plans)


def test_case_ids_survive_inserted_rows_and_status_updates() -> None:
    first = row(status="Pending further investigation by the Member State", days_taken="",
                victims_interviewed="")  # fmt: skip
    second = row(mission="MONUSCO", nationality="ZAF")
    before, _ = check(first, second)
    updated, errors = check(row(mission="UNMISS", nationality="NPL"), row(), second)

    assert errors == []
    assert [p.case_id for p in updated[1:]] == [p.case_id for p in before]
    assert identities(before) <= identities(updated)
    new = identities(updated[1:]) - identities(before)
    assert {type(cmd).__name__ for _, cmd in new} == {"ConcludeInvestigation"}


def test_more_victims_later_keep_the_command_ids_of_those_recorded() -> None:
    before = one(reference="V-1", victims_girls="1")
    after = one(reference="V-1", victims_girls="2")

    old = {e.command_id: e.command for _, e in before.envelopes(NOW)}
    new = {e.command_id: e.command for _, e in after.envelopes(NOW)}
    assert old.items() <= new.items()
    assert [type(cmd).__name__ for cid, cmd in new.items() if cid not in old] == ["RecordVictim"]


@pytest.mark.parametrize(
    "actions",
    [
        pytest.param({"interim_actions": "payments_suspended;1:payments_suspended"},
                     id="scoped-and-unscoped"),
        pytest.param({"final_actions": "convicted;acquitted"}, id="two-prosecution-outcomes"),
    ],
)  # fmt: skip
def test_an_action_given_twice_for_one_person_is_reported(actions: dict[str, str]) -> None:
    plans, errors = check(row(**actions))

    assert plans == []
    assert [(e.line, e.column) for e in errors] == [(2, next(iter(actions)))]
    assert "twice" in errors[0].message


def test_a_reference_used_twice_is_reported_on_the_second_row() -> None:
    _, errors = check(row(reference="R-1"), row(reference="R-1", mission="MONUSCO"))

    assert [(e.line, e.column) for e in errors] == [(3, "reference")]


def test_row_errors_read_as_line_column_message() -> None:
    assert str(RowError(7, "mission", "unknown mission 'X'")) == (
        "line 7, mission: unknown mission 'X'"
    )
    assert str(RowError(1, None, "the file is empty")) == "line 1: the file is empty"
