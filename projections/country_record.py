"""Country follow-up records: what each Member State did about allegations against its
nationals, per year and overall, at any instant, under a named deadline policy.

Every figure is a named condition on one Member State's row for one case
(``country_conditions.py``), listed with ``WHERE …`` to show the cases behind it.
The record of the current rows adds up the figures the projector keeps counted
(``country_figures.py``) and counts the few that move with the instant over the rows
still awaiting a step. A record as of an earlier instant is computed from that
instant's versions in one pass of the database: ``COUNT(*) FILTER (WHERE …)`` for each
count, a sum for each total, the categories in the same pass and the median days
ranked by the database. Nothing is fetched row by row.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from accountability.events.countries import COUNTRIES
from accountability.events.policy import DeadlinePolicy

from . import country_figures as kept
from .country_conditions import (
    AT_THE_INSTANT,
    AWAITING,
    CATEGORY_CODES,
    COUNTS,
    FIGURES,
    INVESTIGATORS,
    TOTALS,
    has_category,
    investigation_concluded,
    investigation_days,
)
from .country_measures import CountryMeasure, CountryRecord, rank_countries
from .history_tables import commitment_versions, state_case_versions
from .versions import valid_at

__all__ = [
    "COUNTS", "FIGURES", "TOTALS", "CountryMeasure", "CountryRecord", "cases_behind",
    "country_records", "rank_countries",
]  # fmt: skip

sc = state_case_versions.c


def _scope(as_of: datetime | None, year: int | None, codes: Sequence[str] | None) -> list[Any]:
    where: list[Any] = [valid_at(state_case_versions, as_of)]
    if year is not None:
        where.append(sc.received_year == year)
    if codes is not None:
        where.append(sc.member_state.in_(list(codes)))
    return where


def country_records(
    conn: Connection,
    policy: DeadlinePolicy,
    now: datetime,
    *,
    as_of: datetime | None = None,
    year: int | None = None,
    codes: Sequence[str] | None = None,
    from_kept: bool = True,
) -> dict[str, CountryRecord]:
    """The record of every country involved in a case (or of ``codes``), judged at
    ``as_of`` (from what was recorded by then) or at ``now``.

    The current record adds up the figures kept by the projector; ``from_kept=False``
    computes it from the rows instead, as a record as of an earlier instant is.
    """
    at = as_of or now
    if as_of is None and from_kept:
        figures, categories, days = _from_kept(conn, policy, now, year, codes)
    else:
        figures, categories, days = _in_one_pass(conn, policy, at, _scope(as_of, year, codes))
    commitments = _commitments(conn, as_of, codes)
    wanted = set(figures) | set(commitments) if codes is None else set(codes)
    return {
        code: CountryRecord(
            code=code,
            name=COUNTRIES.get(code, code),
            as_of=at,
            policy=policy.label,
            year=year,
            figures=figures.get(code) or dict.fromkeys(FIGURES, 0),
            categories=categories.get(code, {}),
            state_investigation_median_days=days["national"].get(code),
            un_investigation_median_days=days["un"].get(code),
            **commitments.get(code, {}),
        )
        for code in sorted(wanted)
    }


_Figures = dict[str, dict[str, int]]
_Days = dict[str, dict[str, float]]


def _from_kept(
    conn: Connection,
    policy: DeadlinePolicy,
    now: datetime,
    year: int | None,
    codes: Sequence[str] | None,
) -> tuple[_Figures, _Figures, _Days]:
    """The current records: kept figures, and the counts of the instant over the rows
    still awaiting a step."""
    stored = kept.kept_figures(conn, policy, year=year, codes=codes)
    instant = [func.count().filter(COUNTS[n](policy, now)).label(n) for n in AT_THE_INSTANT]
    rows = conn.execute(
        select(sc.member_state, *instant)
        .where(*_scope(None, year, codes), AWAITING)
        .group_by(sc.member_state)
    ).mappings()
    awaiting: dict[str, Mapping[str, Any]] = {row["member_state"]: dict(row) for row in rows}
    figures: _Figures = {}
    categories: _Figures = {}
    for code, values in stored.items():
        now_counted = awaiting.get(code) or {}
        figures[code] = {
            n: int(now_counted.get(n, 0)) if n in AT_THE_INSTANT else values[n] for n in FIGURES
        }
        counts = {c: values[f"category_{c}"] for c in CATEGORY_CODES}
        categories[code] = {c: n for c, n in counts.items() if n}
    return figures, categories, kept.median_days(conn, year=year, codes=codes)


def _in_one_pass(
    conn: Connection, policy: DeadlinePolicy, at: datetime, where: list[Any]
) -> tuple[_Figures, _Figures, _Days]:
    """Every figure from the rows, in one pass of the database (ADR 20)."""
    columns = [
        *(func.count().filter(c(policy, at)).label(n) for n, c in COUNTS.items()),
        *(func.coalesce(func.sum(total), 0).label(n) for n, total in TOTALS.items()),
        *(func.count().filter(has_category(c)).label(f"category_{c}") for c in CATEGORY_CODES),
    ]  # fmt: skip
    # PostgreSQL takes the medians in the same pass; SQLite ranks the days apart.
    in_pass = conn.dialect.name == "postgresql"
    medians = [_median_column(p).label(f"median_{p}") for p in INVESTIGATORS] if in_pass else []
    rows = conn.execute(
        select(sc.member_state, *columns, *medians).where(*where).group_by(sc.member_state)
    )
    figures: _Figures = {}
    categories: _Figures = {}
    days: _Days = {prefix: {} for prefix in INVESTIGATORS}
    for r in rows:
        figures[r.member_state] = {n: int(r._mapping[n]) for n in FIGURES}
        counts = {code: int(r._mapping[f"category_{code}"]) for code in CATEGORY_CODES}
        categories[r.member_state] = {code: n for code, n in counts.items() if n}
        for prefix in INVESTIGATORS if in_pass else ():
            if (value := r._mapping[f"median_{prefix}"]) is not None:
                days[prefix][r.member_state] = float(value)
    if not in_pass:
        days = {prefix: _median_days(conn, prefix, where) for prefix in INVESTIGATORS}
    return figures, categories, days


def _median_column(prefix: str) -> ColumnElement[Any]:
    """The median days of concluded investigations, as an aggregate (PostgreSQL)."""
    days = investigation_days(prefix)
    return func.percentile_cont(0.5).within_group(days).filter(investigation_concluded(prefix))


def _median_days(conn: Connection, prefix: str, where: list[Any]) -> dict[str, float]:
    """Each country's median days of its concluded investigations by ``prefix``.

    The database ranks the days and returns the middle one or two per country, so a
    country with thousands of investigations costs one small answer, not every row.
    """
    days = investigation_days(prefix).label("days")
    ranked = (
        select(
            sc.member_state,
            days,
            func.row_number().over(partition_by=sc.member_state, order_by=days).label("rank"),
            func.count().over(partition_by=sc.member_state).label("total"),
        )
        .where(*where, investigation_concluded(prefix))
        .subquery()
    )
    # The middle rank of an odd count, the two middle ranks of an even one.
    middle = select(ranked.c.member_state, ranked.c.days).where(
        (2 * ranked.c.rank).between(ranked.c.total, ranked.c.total + 2)
    )
    found: dict[str, list[int]] = {}
    for code, value in conn.execute(middle):
        found.setdefault(code, []).append(int(value))
    return {code: float(median(values)) for code, values in found.items()}


def _commitments(
    conn: Connection, as_of: datetime | None, codes: Sequence[str] | None
) -> dict[str, dict[str, Any]]:
    cv = commitment_versions.c
    where: list[Any] = [valid_at(commitment_versions, as_of)]
    if codes is not None:
        where.append(cv.member_state.in_(list(codes)))
    rows = conn.execute(
        select(
            cv.member_state, cv.compact_signed_at, cv.circle_joined_at, cv.trust_fund_usd,
            cv.trust_fund_contributions, cv.paternity_focal_point_at, cv.sea_focal_point_at,
        ).where(*where)
    ).mappings()  # fmt: skip
    return {r["member_state"]: {k: v for k, v in r.items() if k != "member_state"} for r in rows}


def cases_behind(
    conn: Connection,
    code: str,
    figure: str,
    policy: DeadlinePolicy,
    now: datetime,
    *,
    as_of: datetime | None = None,
    year: int | None = None,
    category: str | None = None,
) -> list[str]:
    """The cases a figure of a country's record counts, by the same condition.

    ``category`` (a UN code) keeps the cases involving the country's nationals of that
    category: with ``allegations``, the cases behind the record's count by category.
    """
    at = as_of or now
    if figure in COUNTS:
        condition = COUNTS[figure](policy, at)
    elif figure in TOTALS:
        condition = TOTALS[figure] > 0
    else:
        raise KeyError(figure)
    where = [*_scope(as_of, year, [code]), condition]
    if category is not None:
        where.append(has_category(category))
    rows = conn.execute(select(sc.case_id).where(*where).order_by(sc.received_at, sc.case_id))
    return [case_id for (case_id,) in rows]
