"""Statistics in the shape of the UN's quarterly updates, for any period, at any instant.

The counting unit is the UN's: an allegation is counted once for each category of
personnel and each contributing country it involves (DOMAIN.md), so every table of
allegations adds up to the same total. Victims and alleged perpetrators are counted
per case, each person once, in the UN's groups; their tables add up to their own
totals. The period is that of the date the report was received.

"Referred to the Member State" is a flag of each unit: yes when the unit's
contributing country was notified of the case (civilian units are never referred).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, case, func, select

from .casefold import VICTIM_GROUPS
from .history_tables import case_versions, state_case_versions, unit_versions
from .versions import valid_at

cv, uv, sc = case_versions.c, unit_versions.c, state_case_versions.c

COUNTING_POLICY: Final = "un-allegation-unit v1"
"""How these tables count, named as every answer names its rules: an allegation once
per category of personnel and per contributing country, by the date the report was
received, with the status derived as the README says. No deadline is judged here."""


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class Table:
    """One table of a statistical release: rows that add up to ``total``."""

    name: str
    rows: list[Count]

    @property
    def total(self) -> int:
        return sum(r.count for r in self.rows)


@dataclass(frozen=True, slots=True)
class Statistics:
    received_from: datetime
    received_to: datetime
    as_of: datetime
    policy: str
    allegations: int
    cases: int
    tables: list[Table]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


# (table name, column, how an absent value reads)
_UNIT_TABLES: list[tuple[str, Any, str]] = [
    ("entity", cv.entity, "unknown"),
    ("mission", cv.mission, "none"),
    ("category", uv.category, "unknown"),
    ("nationality", uv.nationality, "not applicable"),
    ("type", cv.allegation_type, "unknown"),
    ("incident_year", cv.incident_year, "unknown"),
    ("status", cv.un_status, "unknown"),
]


def statistics(
    conn: Connection,
    received_from: datetime,
    received_to: datetime,
    now: datetime,
    as_of: datetime | None = None,
) -> Statistics:
    """Every table for allegations received in ``[received_from, received_to)``."""
    in_period = [
        valid_at(case_versions, as_of),
        cv.received_at >= received_from,
        cv.received_at < received_to,
    ]
    units = (
        select(uv.case_id, uv.category, uv.nationality)
        .where(valid_at(unit_versions, as_of))
        .subquery()
    )
    joined = case_versions.join(units, units.c.case_id == cv.case_id)
    tables: list[Table] = []
    for name, column, absent in _UNIT_TABLES:
        grouped = column if column.table is case_versions else units.c[column.name]
        rows = conn.execute(
            select(grouped, func.count()).select_from(joined).where(*in_period).group_by(grouped)
        )
        tables.append(Table(name, sorted(
            (Count(_label(value, absent), int(n)) for value, n in rows),
            key=lambda c: (-c.count, c.key),
        )))  # fmt: skip
    notified = (
        select(sc.case_id, sc.member_state, sc.notified_at)
        .where(valid_at(state_case_versions, as_of))
        .subquery()
    )
    referred = case((notified.c.notified_at.is_not(None), "yes"), else_="no")
    rows = conn.execute(
        select(referred, func.count())
        .select_from(
            joined.outerjoin(
                notified,
                (notified.c.case_id == units.c.case_id)
                & (notified.c.member_state == units.c.nationality),
            )
        )
        .where(*in_period)
        .group_by(referred)
    )
    tables.append(Table("referred_to_member_state", sorted(
        (Count(str(value), int(n)) for value, n in rows), key=lambda c: (-c.count, c.key)
    )))  # fmt: skip
    sums = conn.execute(
        select(
            func.count(),
            *(func.coalesce(func.sum(cv[f"victims_{g}"]), 0) for g in VICTIM_GROUPS),
            func.coalesce(func.sum(cv.perpetrators_men), 0),
            func.coalesce(func.sum(cv.perpetrators_women), 0),
            func.coalesce(func.sum(cv.perpetrators_unknown), 0),
            func.coalesce(func.sum(cv.paternity_claims), 0),
            *(func.coalesce(func.sum(cv[f"age_{a}"]), 0) for a in ("adult", "child", "unknown")),
        ).where(*in_period)
    ).one()
    cases, *counts = (int(v) for v in sums)
    victims, perpetrators, paternity, ages = counts[:7], counts[7:10], counts[10], counts[11:]
    tables += [
        Table("victims", [Count(g, n) for g, n in zip(VICTIM_GROUPS, victims, strict=True)]),
        Table(
            "victims_by_age",
            [Count(a, n) for a, n in zip(("adults", "children", "age unknown"), ages, strict=True)],
        ),
        Table(
            "alleged_perpetrators",
            [Count(s, n) for s, n in zip(("men", "women", "unknown"), perpetrators, strict=True)],
        ),
        Table("paternity_claims", [Count("claims", paternity)]),
    ]
    allegations = tables[0].total
    return Statistics(
        received_from, received_to, as_of or now, COUNTING_POLICY, allegations, cases, tables
    )


def _label(value: object, absent: str) -> str:
    if value is None or value == "":
        return absent
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
