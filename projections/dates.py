"""Date arithmetic inside SQL, for SQLite and PostgreSQL alike.

Deadlines in months are compared row by row (was this investigation concluded
within 6 months of its opening?), which Python cannot do without fetching every row.
"""

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean, Integer


def _sql(compiler: Any, kw: dict[str, Any], *parts: ColumnElement[Any]) -> list[str]:
    return [compiler.process(part, **kw) for part in parts]


class WithinMonths(ColumnElement[bool]):
    """``end <= start + months`` with calendar months (``months`` an SQL expression)."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (read by SQLAlchemy to key its SQL cache)
        ("start", InternalTraversal.dp_clauseelement),
        ("end", InternalTraversal.dp_clauseelement),
        ("months", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, start: ColumnElement[Any], end: ColumnElement[Any], months: ColumnElement[Any]
    ) -> None:
        self.start, self.end, self.months = start, end, months


@compiles(WithinMonths, "sqlite")
def _sqlite(element: WithinMonths, compiler: Any, **kw: Any) -> str:
    start, end, months = _sql(compiler, kw, element.start, element.end, element.months)
    return f"(julianday({end}) <= julianday({start}, '+' || ({months}) || ' months'))"


@compiles(WithinMonths, "postgresql")
def _postgresql(element: WithinMonths, compiler: Any, **kw: Any) -> str:
    start, end, months = _sql(compiler, kw, element.start, element.end, element.months)
    return f"({end} <= {start} + make_interval(months => ({months})::int))"


class DaysBetween(ColumnElement[int]):
    """Whole calendar days from the date of ``start`` to the date of ``end`` (UTC)."""

    type = Integer()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (read by SQLAlchemy to key its SQL cache)
        ("start", InternalTraversal.dp_clauseelement),
        ("end", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, start: ColumnElement[Any], end: ColumnElement[Any]) -> None:
        self.start, self.end = start, end


@compiles(DaysBetween, "sqlite")
def _sqlite_days(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    start, end = _sql(compiler, kw, element.start, element.end)
    return f"CAST(julianday(date({end})) - julianday(date({start})) AS INTEGER)"


@compiles(DaysBetween, "postgresql")
def _postgresql_days(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    start, end = _sql(compiler, kw, element.start, element.end)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"
