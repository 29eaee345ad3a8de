"""Rows of a bulk import: one allegation per row, in the UN's published columns.

A file is CSV (with a header) or NDJSON (one object per line) with the same column
names; ``docs/import.md`` documents every column. Reading never stops at the first
bad row: every row is parsed and every problem is reported with its line number and
column. A parsed :class:`Row` is checked for its shape only; whether its commands
are acceptable is the decider's to say (``importer.py``).
"""

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final, NamedTuple, TypeVar

from accountability.events.countries import COUNTRIES
from accountability.events.missions import MISSIONS, MissionKind
from accountability.events.types import CountryCode
from accountability.events.vocabulary import (
    AgeGroup,
    AllegationType,
    DatePrecision,
    EntityKind,
    InterimAction,
    InvestigatingEntity,
    PersonnelCategory,
    Sex,
    UnStatus,
)

T = TypeVar("T")

FORMATS: Final = ("csv", "ndjson")
MAX_COUNT: Final = 1000
"""A typo must not turn into thousands of events that can only be retracted one by one."""


class VictimGroup(NamedTuple):
    """One of the UN's victim columns and whom it counts (victims are numbered V1, V2, …
    across the columns, in this order)."""

    column: str
    age_group: AgeGroup
    sex: Sex


VICTIM_GROUPS: Final = (
    VictimGroup("victims_women", AgeGroup.ADULT, Sex.FEMALE),
    VictimGroup("victims_girls", AgeGroup.CHILD, Sex.FEMALE),
    VictimGroup("victims_females_unknown_age", AgeGroup.UNKNOWN, Sex.FEMALE),
    VictimGroup("victims_men", AgeGroup.ADULT, Sex.MALE),
    VictimGroup("victims_boys", AgeGroup.CHILD, Sex.MALE),
    VictimGroup("victims_males_unknown_age", AgeGroup.UNKNOWN, Sex.MALE),
    VictimGroup("victims_sex_unknown", AgeGroup.UNKNOWN, Sex.UNKNOWN),
)

# Alleged perpetrators by sex: column, the sex recorded, the letter in their ids.
PERPETRATOR_COLUMNS: Final = (
    ("perpetrators_men", Sex.MALE, "M"),
    ("perpetrators_women", Sex.FEMALE, "W"),
    ("perpetrators_unknown", Sex.UNKNOWN, "U"),
)


class FinalAction(StrEnum):
    """The final actions a row may name (``docs/import.md`` maps each to its command)."""

    REPATRIATED = "repatriated"
    DISMISSAL = "dismissal"
    RANK_REDUCTION = "rank_reduction"
    IMPRISONMENT = "imprisonment"
    SUSPENSION = "suspension"
    FINE = "fine"
    REPRIMAND = "reprimand"
    BAN_FROM_FUTURE_SERVICE = "ban_from_future_service"
    OTHER_SANCTION = "other_sanction"
    REFERRED = "referred"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    PROSECUTION_DISMISSED = "prosecution_dismissed"


_WITH_MONTHS: Final = frozenset({FinalAction.IMPRISONMENT, FinalAction.SUSPENSION})
_MAY_HAVE_MONTHS: Final = _WITH_MONTHS | {FinalAction.CONVICTED}

REQUIRED: Final = ("received", "type", "status")
COLUMNS: Final = (
    "reference", "received", "mission", "entity", "entity_name", "category", "nationality",
    "type", "incident_date", *(g.column for g in VICTIM_GROUPS),
    *(name for name, _, _ in PERPETRATOR_COLUMNS), "investigating_entity", "days_taken",
    "victims_interviewed", "status", "referred_to_member_state", "paternity_claims",
    "interim_actions", "final_actions",
)  # fmt: skip

FINDINGS: Final = frozenset({UnStatus.SUBSTANTIATED, UnStatus.NOT_SUBSTANTIATED})
_INVESTIGATED: Final = FINDINGS | {UnStatus.UNDER_INVESTIGATION, UnStatus.PENDING_MEMBER_STATE}
_NOT_YET_INVESTIGATED: Final = frozenset(
    {UnStatus.PRELIMINARY_ASSESSMENT, UnStatus.LIMITED_INFORMATION}
)


class ImportFileError(Exception):
    """A file that cannot be read at all: missing, unreadable, or of an unknown format."""


@dataclass(frozen=True, slots=True)
class RowError:
    """Why a row cannot be imported; ``code`` is the decider's rule when it rejected it."""

    line: int
    column: str | None
    message: str
    code: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Party:
    """Alleged perpetrators of one category of personnel and one nationality."""

    category: PersonnelCategory
    nationality: CountryCode
    men: int
    women: int
    unknown: int

    def perpetrators(self) -> Iterator[tuple[str, Sex]]:
        """Each alleged perpetrator's id and sex; ids are stable when counts grow."""
        counts = (self.men, self.women, self.unknown)
        for (_, sex, letter), count in zip(PERPETRATOR_COLUMNS, counts, strict=True):
            for n in range(1, count + 1):
                yield f"{self.nationality}-{self.category.value}-{letter}{n}", sex


@dataclass(frozen=True, slots=True)
class ActionItem:
    """One token of ``interim_actions`` or ``final_actions``; ``party`` is 1-based."""

    action: InterimAction | FinalAction
    party: int | None = None
    months: int | None = None


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    reference: str | None
    received: date
    mission: str | None
    entity: EntityKind
    entity_name: str | None
    parties: tuple[Party, ...]
    allegation_type: AllegationType
    incident_date: date | None
    incident_precision: DatePrecision
    victims: tuple[tuple[VictimGroup, int], ...]
    investigating_entity: InvestigatingEntity | None
    investigating_state: CountryCode | None
    days_taken: int | None
    victims_interviewed: bool | None
    status: UnStatus
    referred: bool
    paternity_claims: int
    interim_actions: tuple[ActionItem, ...]
    final_actions: tuple[ActionItem, ...]

    def identity(self) -> str:
        """The facts fixed when the allegation was received, canonical, for its case id."""
        parties = sorted(f"{p.category.value}/{p.nationality}" for p in self.parties)
        incident = self.incident_date.isoformat() if self.incident_date else ""
        return json.dumps(
            [
                self.received.isoformat()[:7], self.mission, self.entity.value, self.entity_name,
                self.allegation_type.value, parties, incident, self.incident_precision.value,
            ],
            separators=(",", ":"),
        )  # fmt: skip


# --- reading files ------------------------------------------------------------------


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    raise ImportFileError(
        f"cannot tell the format of '{path.name}' from its suffix; give --format csv or ndjson"
    )


def read_rows(path: Path, fmt: str | None = None) -> tuple[list[Row], list[RowError]]:
    """Every row of ``path`` that parses, and every problem of those that do not."""
    kind = detect_format(path, fmt)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from None
    return parse_text(text, kind)


def parse_text(text: str, fmt: str) -> tuple[list[Row], list[RowError]]:
    records = _csv_records(text) if fmt == "csv" else _ndjson_records(text)
    rows: list[Row] = []
    errors: list[RowError] = []
    for line, record in records:
        if isinstance(record, RowError):
            errors.append(record)
            continue
        parsed = parse_record(line, record)
        if isinstance(parsed, Row):
            rows.append(parsed)
        else:
            errors.extend(parsed)
    return rows, errors


Record = Mapping[str, str] | RowError


def _column_name(raw: str) -> str:
    return re.sub(r"[\s-]+", "_", raw.strip().lower())


def _check_columns(line: int, names: list[str]) -> RowError | None:
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        return RowError(line, None, f"unknown column(s): {', '.join(unknown)}")
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        return RowError(line, None, f"missing column(s): {', '.join(missing)}")
    return None


def _csv_records(text: str) -> Iterator[tuple[int, Record]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_column_name(h) for h in next(reader, [])]
    except csv.Error as exc:
        yield 1, RowError(1, None, f"unreadable header: {exc}")
        return
    problem = _check_columns(1, header) if header else RowError(1, None, "the file is empty")
    if problem is not None:
        yield 1, problem
        return
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader, None)
        except csv.Error as exc:
            yield start, RowError(start, None, f"unreadable CSV: {exc}")
            return
        if values is None:
            return
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            message = f"has {len(values)} fields, the header has {len(header)}"
            yield line, RowError(line, None, message)
            continue
        yield line, dict(zip(header, values, strict=True))


def _ndjson_records(text: str) -> Iterator[tuple[int, Record]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield line, RowError(line, None, f"not a JSON object: {exc.msg}")
            continue
        if not isinstance(data, dict):
            yield line, RowError(line, None, "not a JSON object")
            continue
        names = {_column_name(k): v for k, v in data.items()}
        problem = _check_columns(line, list(names))
        if problem is not None:
            yield line, problem
            continue
        bad = [RowError(line, n, m) for n, v in names.items() if (m := _json_problem(v))]
        if bad:
            yield from ((line, error) for error in bad)
            continue
        yield line, {name: _json_text(value) for name, value in names.items()}


def _json_problem(value: object) -> str | None:
    scalars = (str, int, bool, type(None))
    if isinstance(value, float):
        return f"{value} is not a whole number"
    if isinstance(value, list):
        if all(isinstance(v, scalars) for v in value):
            return None
        return "a list holds only strings, whole numbers or booleans"
    return None if isinstance(value, scalars) else "must be a string, number, boolean or list"


def _json_text(value: object) -> str:
    """The CSV spelling of an NDJSON value, so that both go through one parser."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(_json_text(v) for v in value)
    return str(value)


# --- parsing a record ---------------------------------------------------------------


class _FieldError(ValueError):
    pass


_NO_INCIDENT: Final[tuple[date | None, DatePrecision]] = (None, DatePrecision.UNKNOWN)
_NO_INVESTIGATION: Final[tuple[InvestigatingEntity | None, CountryCode | None]] = (None, None)


class _Fields:
    """Parses the columns of one record, collecting every problem instead of stopping."""

    def __init__(self, line: int, record: Mapping[str, str]) -> None:
        self.line = line
        self.record = record
        self.errors: list[RowError] = []

    def raw(self, column: str) -> str:
        return self.record.get(column, "").strip()

    def take(self, column: str, parse: Callable[[str, str], T], default: T) -> T:
        try:
            return parse(self.raw(column), column)
        except _FieldError as exc:
            self.errors.append(RowError(self.line, column, str(exc)))
            return default

    def fail(self, column: str | None, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))


def parse_record(line: int, record: Mapping[str, str]) -> Row | list[RowError]:
    f = _Fields(line, record)
    reference = f.take("reference", _reference, None)
    received = f.take("received", _month, date.min)
    mission = f.take("mission", _mission, None)
    entity = f.take("entity", _entity, None)
    entity_name = f.raw("entity_name") or None
    categories: list[PersonnelCategory] = f.take("category", _list_of(_category), [])
    nationalities: list[CountryCode] = f.take("nationality", _list_of(_nationality), [])
    counts: list[list[int]] = [
        f.take(name, _list_of(_count), []) for name, _, _ in PERPETRATOR_COLUMNS
    ]
    allegation_type = f.take("type", _allegation_type, AllegationType.UNKNOWN)
    incident, precision = f.take("incident_date", _incident_date, _NO_INCIDENT)
    victims = tuple((g, f.take(g.column, _count, 0)) for g in VICTIM_GROUPS)
    investigating = f.take("investigating_entity", _investigating, _NO_INVESTIGATION)
    days_taken = f.take("days_taken", _optional(_days), None)
    interviewed = f.take("victims_interviewed", _yes_no, None)
    status = f.take("status", _status, UnStatus.PRELIMINARY_ASSESSMENT)
    referred = f.take("referred_to_member_state", _yes_no, None) or False
    claims = f.take("paternity_claims", _count, 0)
    interim: list[ActionItem] = f.take("interim_actions", _actions(InterimAction), [])
    final: list[ActionItem] = f.take("final_actions", _actions(FinalAction), [])
    if f.errors:
        return f.errors
    if entity is None:
        if mission is None:
            f.fail("entity", "entity is required when there is no mission")
        entity = EntityKind.PEACEKEEPING
        if mission is not None and MISSIONS[mission].kind is MissionKind.SPECIAL_POLITICAL:
            entity = EntityKind.SPECIAL_POLITICAL
    mission_kinds = (EntityKind.PEACEKEEPING, EntityKind.SPECIAL_POLITICAL)
    if entity in mission_kinds and entity_name is not None:
        f.fail("entity_name", "entity_name names an entity that is not a mission; leave it empty")
    if entity not in mission_kinds and entity_name is None:
        f.fail("entity_name", f"an allegation in an entity of kind {entity.value} names it")
    _check_finding(f, status, days_taken, interviewed)
    parties = _parties(f, categories, nationalities, counts)
    if f.errors:  # what follows depends on the alleged perpetrators
        return f.errors
    _check_identified(f, status, parties)
    entity_of_investigation, state = _investigation(f, status, investigating, parties)
    if referred and not any(p.category.uniformed for p in parties):
        f.fail(
            "referred_to_member_state",
            "only uniformed personnel are referred to their Member State, and the row has none",
        )
    for column, items in (("interim_actions", interim), ("final_actions", final)):
        _check_scope(f, column, items, len(parties))
    if f.errors:
        return f.errors
    return Row(
        line=line, reference=reference, received=received, mission=mission, entity=entity,
        entity_name=entity_name, parties=parties, allegation_type=allegation_type,
        incident_date=incident, incident_precision=precision,
        victims=tuple((g, n) for g, n in victims if n),
        investigating_entity=entity_of_investigation, investigating_state=state,
        days_taken=days_taken, victims_interviewed=interviewed,
        status=status, referred=referred, paternity_claims=claims,
        interim_actions=tuple(interim), final_actions=tuple(final),
    )  # fmt: skip


def _parties(
    f: _Fields,
    categories: list[PersonnelCategory],
    nationalities: list[CountryCode],
    counts: list[list[int]],
) -> tuple[Party, ...]:
    """Categories and nationalities aligned by position; a single entry applies to all."""
    size = max(len(categories), len(nationalities))
    if size == 0:
        for (column, _, _), values in zip(PERPETRATOR_COLUMNS, counts, strict=True):
            if values:
                f.fail(column, "counts alleged perpetrators of no category and nationality")
        return ()
    if len(categories) not in (1, size) or len(nationalities) not in (1, size):
        f.fail(
            "nationality",
            f"{len(categories)} categories and {len(nationalities)} nationalities: give as many "
            "of each, or one that applies to all",
        )
        return ()
    categories = categories * size if len(categories) == 1 else categories
    nationalities = nationalities * size if len(nationalities) == 1 else nationalities
    by_position: list[tuple[int, int, int]] = [(0, 0, 0)] * size
    given = [c for c in counts if c]
    for (column, _, _), values in zip(PERPETRATOR_COLUMNS, counts, strict=True):
        if values and len(values) != size:
            f.fail(column, f"{len(values)} value(s) for {size} positions; give one per position")
            return ()
    if given:
        by_position = [
            (counts[0][i] if counts[0] else 0, counts[1][i] if counts[1] else 0,
             counts[2][i] if counts[2] else 0)
            for i in range(size)
        ]  # fmt: skip
    parties: list[Party] = []
    for i, (category, nationality) in enumerate(zip(categories, nationalities, strict=True)):
        men, women, unknown = by_position[i]
        if not given:
            unknown = 1  # the UN counts at least one alleged perpetrator per position
        elif men + women + unknown == 0:
            f.fail("perpetrators_unknown", f"position {i + 1} has no alleged perpetrator")
        if any(p.category is category and p.nationality == nationality for p in parties):
            f.fail("category", f"{category.value} of {nationality} is named twice")
        parties.append(Party(category, nationality, men, women, unknown))
    return tuple(parties)


def _check_identified(f: _Fields, status: UnStatus, parties: tuple[Party, ...]) -> None:
    """The UN's wording tells whether anyone is identified; the case file derives it back."""
    if status is UnStatus.LIMITED_INFORMATION and parties:
        f.fail("category", f"a case '{status.value}' has no identified alleged perpetrator")
    if status is UnStatus.PRELIMINARY_ASSESSMENT and not parties:
        f.fail("category", f"a case '{status.value}' names the alleged perpetrators' category")


def _investigation(
    f: _Fields,
    status: UnStatus,
    given: tuple[InvestigatingEntity | None, CountryCode | None],
    parties: tuple[Party, ...],
) -> tuple[InvestigatingEntity | None, CountryCode | None]:
    entity, state = given
    if entity is None:
        if status in _INVESTIGATED:
            f.fail("investigating_entity", f"a case '{status.value}' names who investigates")
        return None, None
    if status in _NOT_YET_INVESTIGATED:
        f.fail("investigating_entity", f"a case '{status.value}' has no investigation yet")
    if status is UnStatus.UNDER_INVESTIGATION and entity.national:
        f.fail(
            "investigating_entity",
            f"a national investigation ({entity.value}) under way is '"
            f"{UnStatus.PENDING_MEMBER_STATE.value}' in the UN's wording",
        )
    if status is UnStatus.PENDING_MEMBER_STATE and not entity.national:
        f.fail(
            "investigating_entity", f"a case '{status.value}' is investigated by TCC, PCC or NIO"
        )
    if not entity.national:
        if state is not None:
            f.fail("investigating_entity", f"an {entity.value} investigation names no state")
        return entity, None
    uniformed = sorted({p.nationality for p in parties if p.category.uniformed})
    if state is None:
        if len(uniformed) != 1:
            which = "no uniformed alleged perpetrator" if not uniformed else ", ".join(uniformed)
            f.fail(
                "investigating_entity",
                f"say which state investigates ({entity.value}:<ISO3>); the row has {which}",
            )
            return entity, None
        state = CountryCode(uniformed[0])
    return entity, state


def _check_finding(
    f: _Fields, status: UnStatus, days: int | None, interviewed: bool | None
) -> None:
    if status in FINDINGS:
        if days is None:
            f.fail("days_taken", f"a case '{status.value}' gives the days its investigation took")
        if interviewed is None:
            f.fail(
                "victims_interviewed",
                f"a case '{status.value}' says whether victims were interviewed (yes or no)",
            )
        return
    if days is not None:
        f.fail("days_taken", "days_taken goes with a finding (Substantiated, Not substantiated)")
    if interviewed is not None:
        f.fail("victims_interviewed", "victims_interviewed goes with a finding")


def _check_scope(f: _Fields, column: str, items: list[ActionItem], parties: int) -> None:
    for item in items:
        if item.party is not None and not 1 <= item.party <= parties:
            f.fail(column, f"position {item.party} is not one of the row's {parties} positions")
    keys = [(i.party, i.action) for i in items]
    if len(set(keys)) != len(keys):
        f.fail(column, "an action is named twice")


# --- parsing values -----------------------------------------------------------------

_IDENTIFIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _reference(raw: str, column: str) -> str | None:
    if not raw:
        return None
    if not _IDENTIFIER.fullmatch(raw):
        raise _FieldError(
            f"reference '{raw}' must be 1 to 64 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit (it becomes the case id)"
        )
    return raw


def _month(raw: str, column: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise _FieldError(f"{column} '{raw}' is not a month (YYYY-MM)")
    return date(int(match[1]), int(match[2]), 1)


def _incident_date(raw: str, column: str) -> tuple[date | None, DatePrecision]:
    if not raw:
        return None, DatePrecision.UNKNOWN
    try:
        if re.fullmatch(r"\d{4}", raw):
            return date(int(raw), 1, 1), DatePrecision.YEAR
        if re.fullmatch(r"\d{4}-\d{2}", raw):
            return _month(raw, column), DatePrecision.MONTH
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return date.fromisoformat(raw), DatePrecision.DAY
    except (ValueError, _FieldError):
        pass
    raise _FieldError(f"incident_date '{raw}' is not YYYY-MM-DD, YYYY-MM, YYYY or empty")


def _mission(raw: str, column: str) -> str | None:
    if not raw:
        return None
    if raw.upper() not in MISSIONS:
        raise _FieldError(f"unknown mission '{raw}'")
    return raw.upper()


def _token(raw: str) -> str:
    return re.sub(r"[\s-]+", "_", raw.strip().lower())


def _entity(raw: str, column: str) -> EntityKind | None:
    if not raw:
        return None
    try:
        return EntityKind(_token(raw))
    except ValueError:
        allowed = ", ".join(k.value for k in EntityKind)
        raise _FieldError(f"unknown entity kind '{raw}' (one of {allowed})") from None


def _category(raw: str, column: str) -> PersonnelCategory:
    for category in PersonnelCategory:
        if raw.upper() == category.value or raw.casefold() == category.label.casefold():
            return category
    allowed = ", ".join(c.value for c in PersonnelCategory)
    raise _FieldError(f"unknown category of personnel '{raw}' (one of {allowed})")


def _fold(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    return " ".join(plain.encode("ascii", "ignore").decode().casefold().split())


@cache
def country_names() -> Mapping[str, CountryCode | None]:
    """English short names (and their uninverted forms) to codes; None where ambiguous."""
    names: dict[str, CountryCode | None] = {}
    for code, name in COUNTRIES.items():
        plain = _fold(re.sub(r"\s*\([^)]*\)", "", name))
        forms = {_fold(name), plain}
        if "," in plain:
            before, after = (p.strip() for p in plain.split(",", 1))
            inverted = f"{after} {before}"
            forms |= {inverted, inverted.removeprefix("the ")}
        for form in forms:
            names[form] = CountryCode(code) if names.get(form, code) == code else None
    return MappingProxyType(names)


def _nationality(raw: str, column: str) -> CountryCode:
    if raw.upper() in COUNTRIES:
        return CountryCode(raw.upper())
    folded = _fold(raw)
    names = country_names()
    if folded in names:
        code = names[folded]
        if code is None:
            raise _FieldError(f"country name '{raw}' is ambiguous; give its ISO 3166-1 alpha-3")
        return code
    raise _FieldError(f"unknown nationality '{raw}' (ISO 3166-1 alpha-3 or English short name)")


def _allegation_type(raw: str, column: str) -> AllegationType:
    names = {"sexual exploitation": "SE", "sexual abuse": "SA"}
    try:
        return AllegationType(names.get(raw.casefold(), raw.upper()))
    except ValueError:
        raise _FieldError(f"unknown type '{raw}' (SE, SA, other or unknown)") from None


def _status(raw: str, column: str) -> UnStatus:
    wanted = " ".join(re.sub(r"[\u2013\u2014-]", "-", raw).casefold().split())
    for status in UnStatus:
        if wanted in (status.value.replace("\u2013", "-").casefold(), status.name.lower()):
            return status
    allowed = "; ".join(s.value for s in UnStatus)
    raise _FieldError(f"unknown status '{raw}' (the UN's wording: {allowed})")


def _count(raw: str, column: str) -> int:
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise _FieldError(f"'{raw}' is not a whole number")
    if int(raw) > MAX_COUNT:
        raise _FieldError(f"{raw} is more than {MAX_COUNT}")
    return int(raw)


def _days(raw: str, column: str) -> int:
    if not (raw.isascii() and raw.isdigit()):
        raise _FieldError(f"'{raw}' is not a whole number of days")
    return int(raw)


def _optional(parse: Callable[[str, str], T]) -> Callable[[str, str], T | None]:
    def parse_optional(raw: str, column: str) -> T | None:
        return parse(raw, column) if raw else None

    return parse_optional


def _list_of(parse: Callable[[str, str], T]) -> Callable[[str, str], list[T]]:
    """``a;b;c`` (empty: no entries); every entry is parsed, the first bad one reported."""

    def parse_list(raw: str, column: str) -> list[T]:
        if not raw:
            return []
        parts = [p.strip() for p in raw.split(";")]
        if not all(parts):
            raise _FieldError(f"'{raw}' has an empty entry")
        return [parse(p, column) for p in parts]

    return parse_list


def _yes_no(raw: str, column: str) -> bool | None:
    value = raw.casefold()
    if not value:
        return None
    if value in ("yes", "y", "true", "1"):
        return True
    if value in ("no", "n", "false", "0"):
        return False
    raise _FieldError(f"'{raw}' is not yes or no")


def _investigating(raw: str, column: str) -> tuple[InvestigatingEntity | None, CountryCode | None]:
    if not raw:
        return None, None
    name, _, state = raw.partition(":")
    try:
        entity = InvestigatingEntity(name.strip().upper())
    except ValueError:
        allowed = ", ".join(e.value for e in InvestigatingEntity)
        raise _FieldError(f"unknown investigating entity '{name}' (one of {allowed})") from None
    return entity, _nationality(state.strip(), column) if state.strip() else None


def _actions(
    vocabulary: type[InterimAction] | type[FinalAction],
) -> Callable[[str, str], list[ActionItem]]:
    """``[<position>:]<action>[=<months>]``, separated by ``;``."""

    def parse_actions(raw: str, column: str) -> list[ActionItem]:
        items: list[ActionItem] = []
        for token in _list_of(lambda part, _: part)(raw, column):
            match = re.fullmatch(r"(?:(\d+)\s*:)?\s*([^=]+?)\s*(?:=\s*(\d+))?", token)
            if match is None:
                raise _FieldError(f"'{token}' is not [<position>:]<action>[=<months>]")
            position, name, months = match.groups()
            try:
                action = vocabulary(_token(name))
            except ValueError:
                allowed = ", ".join(a.value for a in vocabulary)
                raise _FieldError(f"unknown action '{name}' (one of {allowed})") from None
            if months is not None and action not in _MAY_HAVE_MONTHS:
                raise _FieldError(f"'{token}': {action.value} takes no months")
            if months is None and action in _WITH_MONTHS:
                raise _FieldError(f"'{token}': {action.value} needs its months (e.g. {name}=12)")
            items.append(
                ActionItem(
                    action,
                    int(position) if position else None,
                    int(months) if months is not None else None,
                )
            )
        return items

    return parse_actions
