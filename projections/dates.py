"""Date arithmetic inside SQL, for SQLite and PostgreSQL alike.

Deadlines in months are compared row by row (was this investigation concluded
within 6 months of its opening?), which Python cannot do without fetching every row.
"""

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import Boolean


class WithinMonths(ColumnElement[bool]):
    """``end <= start + months`` with calendar months (``months`` an SQL expression)."""

    type = Boolean()
    inherit_cache = True

    def __init__(
        self, start: ColumnElement[Any], end: ColumnElement[Any], months: ColumnElement[Any]
    ) -> None:
        self.start, self.end, self.months = start, end, months


@compiles(WithinMonths, "sqlite")
def _sqlite(element: WithinMonths, compiler: Any, **kw: Any) -> str:
    start = compiler.process(element.start, **kw)
    end = compiler.process(element.end, **kw)
    months = compiler.process(element.months, **kw)
    return f"(julianday({end}) <= julianday({start}, '+' || ({months}) || ' months'))"


@compiles(WithinMonths, "postgresql")
def _postgresql(element: WithinMonths, compiler: Any, **kw: Any) -> str:
    start = compiler.process(element.start, **kw)
    end = compiler.process(element.end, **kw)
    months = compiler.process(element.months, **kw)
    return f"({end} <= {start} + make_interval(months => ({months})::int))"
