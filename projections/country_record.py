"""Country follow-up records: what each Member State did about allegations against its
nationals, per year and overall, at any instant, under a named deadline policy.

Every figure is a named condition on one Member State's row for one case
(``state_case_versions``): counted with ``COUNT(*) FILTER (WHERE …)`` for the record, and
listed with ``WHERE …`` to show the cases behind it, so a figure and its explanation
can never disagree. Totals (sanctions, sentences, …) sum a column instead; the
cases behind them are those where it is above zero. The count by category of
personnel is summed in the same pass and the median days of investigations ranked
by the database over the same rows, and their cases listed by the same conditions
(``cases_behind``'s ``category``; the concluded investigations' figures). Nothing is
fetched row by row: a country with thousands of cases costs a few small answers.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, literal, not_, or_, select

from accountability.events.countries import COUNTRIES
from accountability.events.policy import DayCount, DeadlinePolicy, add_months
from accountability.events.vocabulary import PersonnelCategory

from .case_history import commitment_versions, state_case_versions
from .country_measures import CountryMeasure, CountryRecord, rank_countries
from .dates import DaysBetween, WithinMonths
from .versions import valid_at

__all__ = [
    "COUNTS", "FIGURES", "TOTALS", "CountryMeasure", "CountryRecord", "cases_behind",
    "country_records", "rank_countries",
]  # fmt: skip

sc = state_case_versions.c

Condition = Callable[[DeadlinePolicy, datetime], ColumnElement[bool]]


def _months(urgent: Any, policy: DeadlinePolicy) -> ColumnElement[Any]:
    return case(
        (urgent.is_(True), policy.urgent_investigation_months),
        else_=policy.investigation_months,
    )


def _overdue(prefix: str) -> Condition:
    """Investigations still open once their deadline passed, judged at ``at``."""
    opened, concluded, urgent = (
        sc[f"{prefix}_opened_at"],
        sc[f"{prefix}_concluded_at"],
        sc[f"{prefix}_urgent"],
    )

    def condition(policy: DeadlinePolicy, at: datetime) -> ColumnElement[bool]:
        normal = add_months(at, -policy.investigation_months)
        urgent_since = add_months(at, -policy.urgent_investigation_months)
        return and_(
            opened.is_not(None),
            concluded.is_(None),
            or_(
                and_(urgent.is_(True), opened < urgent_since),
                and_(urgent.is_not(True), opened < normal),
            ),
        )

    return condition


def _concluded(prefix: str, in_time: bool) -> Condition:
    opened, concluded, urgent = (
        sc[f"{prefix}_opened_at"],
        sc[f"{prefix}_concluded_at"],
        sc[f"{prefix}_urgent"],
    )

    def condition(policy: DeadlinePolicy, at: datetime) -> ColumnElement[bool]:
        within = WithinMonths(opened, concluded, _months(urgent, policy))
        return and_(concluded.is_not(None), within if in_time else not_(within))

    return condition


def _reply_elapsed(policy: DeadlinePolicy) -> ColumnElement[Any]:
    return sc.reply_working_days if policy.day_count is DayCount.WORKING else sc.reply_days


_SUBSTANTIATED = sc.substantiated.is_(True)
_CONCLUDED = or_(sc.national_concluded_at.is_not(None), sc.un_concluded_at.is_not(None))
_OPEN = sc.case_closed_at.is_(None)
_COMPLETE = and_(
    _CONCLUDED, or_(not_(_SUBSTANTIATED), sc.sanctions > 0, sc.prosecutions_concluded > 0)
)
"""Nothing more is expected of the state: no finding against its national, or an outcome."""

COUNTS: dict[str, Condition] = {
    "allegations": lambda p, at: sc.perpetrators > 0,
    "allegations_uniformed": lambda p, at: sc.uniformed.is_(True),
    "notifications": lambda p, at: sc.notified_at.is_not(None),
    "replies_on_time": lambda p, at: and_(
        sc.replied_at.is_not(None), _reply_elapsed(p) <= p.reply_days
    ),
    "replies_late": lambda p, at: and_(
        sc.replied_at.is_not(None), _reply_elapsed(p) > p.reply_days
    ),
    "replies_missing": lambda p, at: and_(
        sc.notified_at.is_not(None),
        sc.replied_at.is_(None),
        sc.notified_at < p.reply_overdue_before(at),
    ),
    "replies_pending": lambda p, at: and_(
        sc.notified_at.is_not(None),
        sc.replied_at.is_(None),
        sc.notified_at >= p.reply_overdue_before(at),
    ),
    "declined_to_investigate": lambda p, at: func.coalesce(sc.reply, "") == "declined",
    "investigator_appointed": lambda p, at: sc.nio_appointed_at.is_not(None),
    "investigations_by_state": lambda p, at: sc.national_opened_at.is_not(None),
    "investigations_by_un": lambda p, at: sc.un_opened_at.is_not(None),
    "investigations_completed": lambda p, at: _CONCLUDED,
    "state_investigations_on_time": _concluded("national", in_time=True),
    "state_investigations_late": _concluded("national", in_time=False),
    "state_investigations_overdue": _overdue("national"),
    "state_investigations_running": lambda p, at: and_(
        sc.national_opened_at.is_not(None),
        sc.national_concluded_at.is_(None),
        not_(_overdue("national")(p, at)),
    ),
    "un_investigations_on_time": _concluded("un", in_time=True),
    "un_investigations_late": _concluded("un", in_time=False),
    "un_investigations_overdue": _overdue("un"),
    "un_investigations_running": lambda p, at: and_(
        sc.un_opened_at.is_not(None),
        sc.un_concluded_at.is_(None),
        not_(_overdue("un")(p, at)),
    ),
    "substantiated": lambda p, at: _SUBSTANTIATED,
    "not_substantiated": lambda p, at: and_(_CONCLUDED, not_(_SUBSTANTIATED)),
    "substantiated_with_outcome": lambda p, at: and_(
        _SUBSTANTIATED, or_(sc.sanctions > 0, sc.prosecutions_concluded > 0)
    ),
    "substantiated_without_outcome": lambda p, at: and_(
        _SUBSTANTIATED, sc.sanctions == 0, sc.prosecutions_concluded == 0
    ),
    "follow_up_requested": lambda p, at: sc.follow_up_requests > 0,
    "follow_up_outstanding": lambda p, at: and_(
        _OPEN,
        sc.last_request_at.is_not(None),
        or_(sc.last_state_step_at.is_(None), sc.last_state_step_at < sc.last_request_at),
    ),
    "stale": lambda p, at: and_(
        _OPEN,
        sc.notified_at.is_not(None),
        not_(_COMPLETE),
        sc.last_activity_at < p.stale_before(at),
    ),
}
"""Figures that count cases meeting a condition."""

TOTALS: dict[str, ColumnElement[Any]] = {
    **{name: sc[name] for name in (
        "perpetrators", "interim_actions", "repatriations", "referrals", "sanctions",
        "prosecutions_concluded", "convictions", "acquittals", "dismissals", "sentence_months",
        "paternity_claims", "paternity_established",
    )},
    "paternity_open": sc.paternity_claims - sc.paternity_established,
}  # fmt: skip
"""Figures that add up a column (or a difference of columns) over the cases."""

FIGURES = (*COUNTS, *TOTALS)


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
) -> dict[str, CountryRecord]:
    """The record of every country involved in a case (or of ``codes``), judged at
    ``as_of`` (from what was recorded by then) or at ``now``."""
    at = as_of or now
    where = _scope(as_of, year, codes)
    columns = [
        *(func.count().filter(c(policy, at)).label(n) for n, c in COUNTS.items()),
        *(func.coalesce(func.sum(total), 0).label(n) for n, total in TOTALS.items()),
    ]  # fmt: skip
    # PostgreSQL takes the medians in the same pass; SQLite ranks the days apart.
    in_pass = conn.dialect.name == "postgresql"
    medians = [_median_column(p).label(f"median_{p}") for p in _PREFIXES] if in_pass else []
    rows = conn.execute(
        select(sc.member_state, *columns, *_CATEGORY_COUNTS, *medians)
        .where(*where)
        .group_by(sc.member_state)
    )
    figures: dict[str, dict[str, int]] = {}
    categories: dict[str, dict[str, int]] = {}
    days: dict[str, dict[str, float]] = {prefix: {} for prefix in _PREFIXES}
    for r in rows:
        figures[r.member_state] = {n: int(r._mapping[n]) for n in FIGURES}
        counts = {code: int(r._mapping[f"category_{code}"]) for code in _CATEGORY_CODES}
        categories[r.member_state] = {code: n for code, n in counts.items() if n}
        for prefix in _PREFIXES if in_pass else ():
            if (value := r._mapping[f"median_{prefix}"]) is not None:
                days[prefix][r.member_state] = float(value)
    if not in_pass:
        days = {prefix: _median_days(conn, prefix, where) for prefix in _PREFIXES}
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


def _has_category(code: str) -> ColumnElement[bool]:
    """The case involves the state's nationals of category ``code`` (a UN code)."""
    return (literal(",") + sc.categories + literal(",")).contains(f",{code},")


_CATEGORY_CODES = [category.value for category in PersonnelCategory]
_CATEGORY_COUNTS = [
    func.count().filter(_has_category(code)).label(f"category_{code}") for code in _CATEGORY_CODES
]
"""Cases by category of personnel, counted in the same pass as the figures."""


_PREFIXES = ("national", "un")  # investigations by the state, by the UN


def _days(prefix: str) -> DaysBetween:
    return DaysBetween(sc[f"{prefix}_opened_at"], sc[f"{prefix}_concluded_at"])


def _median_column(prefix: str) -> ColumnElement[Any]:
    """The median days of concluded investigations, as an aggregate (PostgreSQL)."""
    concluded = and_(
        sc[f"{prefix}_opened_at"].is_not(None), sc[f"{prefix}_concluded_at"].is_not(None)
    )
    return func.percentile_cont(0.5).within_group(_days(prefix)).filter(concluded)


def _median_days(conn: Connection, prefix: str, where: list[Any]) -> dict[str, float]:
    """Each country's median days of its concluded investigations by ``prefix``.

    The database ranks the days and returns the middle one or two per country, so a
    country with thousands of investigations costs one small answer, not every row.
    """
    opened, concluded = sc[f"{prefix}_opened_at"], sc[f"{prefix}_concluded_at"]
    days = _days(prefix).label("days")
    ranked = (
        select(
            sc.member_state,
            days,
            func.row_number().over(partition_by=sc.member_state, order_by=days).label("rank"),
            func.count().over(partition_by=sc.member_state).label("total"),
        )
        .where(*where, opened.is_not(None), concluded.is_not(None))
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
        where.append(_has_category(category))
    rows = conn.execute(select(sc.case_id).where(*where).order_by(sc.received_at, sc.case_id))
    return [case_id for (case_id,) in rows]
