"""Country figures kept counted by the projector, so that a record is read, not computed.

A country record over the current rows (no ``asOf``) adds up a few stored rows instead
of judging some fifty conditions on every row of the country (ADR 22). For each
Member State, year of receipt, deadline policy and log partition, ``country_figures``
holds every count that does not change with the instant of judgement, every total
and the count by category of personnel; ``country_investigation_days`` holds how many
concluded investigations took each number of days, from which a median is read.

They are kept by difference: before a batch changes some cases, the projector counts
what those cases' current rows contribute, counts again after, and adds the change,
with the conditions of ``country_conditions.py`` evaluated by the database. The log
partition is part of each key so that workers (and rebuilding processes), which own
disjoint partitions, never write the same row. Counts that move with the instant
(replies missing, investigations overdue, stale cases) are counted when read, over
the rows still awaiting a step (``AWAITING``), a small part of the whole.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    String,
    Table,
    func,
    or_,
    select,
)

from accountability.events.policy import POLICIES, DeadlinePolicy

from .country_conditions import (
    AT_THE_INSTANT,
    BY_POLICY,
    CATEGORY_CODES,
    COUNTS,
    INVESTIGATORS,
    TOTALS,
    has_category,
    investigation_concluded,
    investigation_days,
)
from .history_tables import state_case_versions
from .sql import add_to, chunks, key_in, metadata, select_chunk_size

sc = state_case_versions.c

KEPT_COUNTS = [name for name in COUNTS if name not in AT_THE_INSTANT]
"""The counts kept in advance: they depend on a row and the policy, not on the instant."""

_CATEGORIES = [f"category_{code}" for code in CATEGORY_CODES]
_VALUES = ["cases", *KEPT_COUNTS, *TOTALS, *_CATEGORIES]
_FIGURE_KEYS = ["member_state", "received_year", "policy", "partition"]
_DAY_KEYS = ["member_state", "received_year", "partition", "investigator", "days"]

UPGRADED = -1
"""The partition of figures counted from rows already there when the table was added."""

country_figures = Table(
    "country_figures",
    metadata,
    Column("member_state", String(3), primary_key=True),
    Column("received_year", Integer, primary_key=True),
    Column("policy", String(64), primary_key=True),
    Column("partition", Integer, primary_key=True),
    *(Column(name, Integer, nullable=False) for name in _VALUES),
)

country_investigation_days = Table(
    "country_investigation_days",
    metadata,
    Column("member_state", String(3), primary_key=True),
    Column("received_year", Integer, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("investigator", String(8), primary_key=True),
    Column("days", Integer, primary_key=True),
    Column("cases", Integer, nullable=False),
)

_ANY_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
"""Kept counts do not read the instant; a test checks that they ignore it."""


def _kept_columns() -> list[ColumnElement[Any]]:
    """One row's contribution to every kept figure, under every policy at once."""
    policies = list(POLICIES.values())
    return [
        func.count().label("cases"),
        *(func.count().filter(COUNTS[n](policies[0], _ANY_INSTANT)).label(n)
          for n in KEPT_COUNTS if n not in BY_POLICY),
        *(func.coalesce(func.sum(total), 0).label(n) for n, total in TOTALS.items()),
        *(func.count().filter(has_category(c)).label(f"category_{c}") for c in CATEGORY_CODES),
        *(func.count().filter(COUNTS[n](policy, _ANY_INSTANT)).label(f"{n}@{i}")
          for i, policy in enumerate(policies) for n in KEPT_COUNTS if n in BY_POLICY),
    ]  # fmt: skip


_KEPT_COLUMNS = _kept_columns()
_CONCLUDED = or_(*(investigation_concluded(prefix) for prefix in INVESTIGATORS))
_DAYS = [investigation_days(prefix) for prefix in INVESTIGATORS]


def _under(row: Any, index: int) -> list[int]:
    """The kept figures of a row of :func:`_kept_columns`, under the policy at ``index``."""
    return [int(row[f"{n}@{index}" if n in BY_POLICY else n]) for n in _VALUES]


@dataclass(slots=True)
class Contribution:
    """What some cases' current rows add to the kept figures, by key."""

    figures: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    days: dict[tuple[Any, ...], int] = field(default_factory=lambda: defaultdict(int))


def contribution(
    conn: Connection,
    cases: Mapping[int, Iterable[str]],
    policies: Iterable[DeadlinePolicy] = POLICIES.values(),
    *,
    with_days: bool = True,
) -> Contribution:
    """Count what the current rows of ``cases`` (case ids by log partition) contribute:
    two grouped queries for each chunk of cases, whatever the number of policies."""
    found = Contribution()
    labels = {policy.label for policy in policies}
    for partition, case_ids in cases.items():
        for chunk in chunks(sorted(set(case_ids)), select_chunk_size()):
            where = [sc.recorded_to.is_(None), sc.case_id.in_(chunk)]
            rows = conn.execute(
                select(sc.member_state, sc.received_year, *_KEPT_COLUMNS)
                .where(*where)
                .group_by(sc.member_state, sc.received_year)
            ).mappings()
            for row in rows:
                for index, label in enumerate(POLICIES):
                    if label not in labels:
                        continue
                    key = (row["member_state"], row["received_year"], label, partition)
                    known = found.figures.setdefault(key, [0] * len(_VALUES))
                    for i, value in enumerate(_under(row, index)):
                        known[i] += value
            if not with_days:
                continue
            grouped = (sc.member_state, sc.received_year, *_DAYS)
            for state, year, *taken, count in conn.execute(
                select(*grouped, func.count()).where(*where, _CONCLUDED).group_by(*grouped)
            ):
                for prefix, day in zip(INVESTIGATORS, taken, strict=True):
                    if day is not None:
                        found.days[(state, year, partition, prefix, int(day))] += int(count)
    return found


def record_change(conn: Connection, before: Contribution, after: Contribution) -> None:
    """Add to the kept figures what changed from ``before`` to ``after``."""
    zero = [0] * len(_VALUES)
    figures: list[dict[str, Any]] = []
    for key in sorted(before.figures.keys() | after.figures.keys()):
        old, new = before.figures.get(key, zero), after.figures.get(key, zero)
        change = [n - o for n, o in zip(new, old, strict=True)]
        if any(change):
            named = zip(_VALUES, change, strict=True)
            figures.append({**dict(zip(_FIGURE_KEYS, key, strict=True)), **dict(named)})
    days: list[dict[str, Any]] = []
    for key in sorted(before.days.keys() | after.days.keys()):
        if moved := after.days.get(key, 0) - before.days.get(key, 0):
            days.append({**dict(zip(_DAY_KEYS, key, strict=True)), "cases": moved})
    _add(conn, country_figures, _FIGURE_KEYS, figures)
    _add(conn, country_investigation_days, _DAY_KEYS, days)


def _add(conn: Connection, table: Table, keys: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` to the stored ones, key by key; drop the rows that come to nothing."""
    add_to(conn, table, rows)
    # Only a row whose count of cases fell can have come to nothing.
    fallen = [tuple(row[k] for k in keys) for row in rows if row["cases"] < 0]
    for chunk in chunks(fallen, select_chunk_size(len(keys))):
        conn.execute(
            table.delete().where(key_in([table.c[k] for k in keys], chunk), table.c.cases == 0)
        )


def fill_if_missing(conn: Connection) -> bool:
    """Count the current rows under each policy that has no figures, if there are rows.

    A database made before the figures were kept has rows but no figures, and a
    policy added to the code has none yet: they are counted here, under
    :data:`UPGRADED`, since the rows do not say their log partition.
    """
    cf = country_figures.c
    counted = set(conn.execute(select(cf.policy).distinct()).scalars())
    missing = [policy for label, policy in POLICIES.items() if label not in counted]
    if not missing:
        return False
    current = select(sc.case_id).where(sc.recorded_to.is_(None)).distinct()
    case_ids = list(conn.execute(current).scalars())
    if not case_ids:
        return False
    everything = {UPGRADED: case_ids}
    found = contribution(conn, everything, missing, with_days=not counted)
    record_change(conn, Contribution(), found)
    return True


def _narrowed(table: Table, year: int | None, codes: Sequence[str] | None) -> list[Any]:
    """Conditions keeping the rows of one year of receipt, and of ``codes``, if given."""
    where: list[Any] = []
    if year is not None:
        where.append(table.c.received_year == year)
    if codes is not None:
        where.append(table.c.member_state.in_(list(codes)))
    return where


def kept_figures(
    conn: Connection, policy: DeadlinePolicy, *, year: int | None, codes: Sequence[str] | None
) -> dict[str, dict[str, int]]:
    """Each country's kept figures (``KEPT_COUNTS``, totals, ``category_<code>``)."""
    cf = country_figures.c
    where = [cf.policy == policy.label, *_narrowed(country_figures, year, codes)]
    sums = [func.sum(cf[name]).label(name) for name in _VALUES]
    rows = conn.execute(
        select(cf.member_state, *sums).where(*where).group_by(cf.member_state)
    ).mappings()
    return {
        row["member_state"]: {name: int(row[name]) for name in _VALUES}
        for row in rows
        if row["cases"]
    }


def median_days(
    conn: Connection, *, year: int | None, codes: Sequence[str] | None
) -> dict[str, dict[str, float]]:
    """For each investigator, each country's median days of concluded investigations."""
    cd = country_investigation_days.c
    where = _narrowed(country_investigation_days, year, codes)
    rows = conn.execute(
        select(cd.investigator, cd.member_state, cd.days, func.sum(cd.cases))
        .where(*where)
        .group_by(cd.investigator, cd.member_state, cd.days)
        .order_by(cd.investigator, cd.member_state, cd.days)
    )
    counted: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for investigator, state, days, count in rows:
        if count:
            counted[(investigator, state)].append((int(days), int(count)))
    found: dict[str, dict[str, float]] = {prefix: {} for prefix in INVESTIGATORS}
    for (investigator, state), histogram in counted.items():
        found[investigator][state] = histogram_median(histogram)
    return found


def histogram_median(histogram: Sequence[tuple[int, int]]) -> float:
    """The median of values given as (value, how many) in increasing order of value."""
    total = sum(count for _, count in histogram)
    wanted = [(total - 1) // 2, total // 2]  # the middle position(s), from 0
    middle: list[int] = []
    seen = 0
    for value, count in histogram:
        while wanted and wanted[0] < seen + count:
            middle.append(value)
            wanted.pop(0)
        seen += count
    return (middle[0] + middle[1]) / 2
