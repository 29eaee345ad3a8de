"""Queries. Country records and statistics are public aggregates; case detail, the
cases behind a figure, the gaps and the audit trail need a credential. Who may read
what is decided in ``access.py`` before any resolver here runs; a resolver only
narrows its query to what the caller may see (a Member State's cases).

Every query that judges deadlines or reads history takes ``asOf`` (answer from what
was recorded by then) and ``policy`` (a deadline policy's label), and says which it
used.
"""

from datetime import UTC, datetime
from typing import Any, Final

import graphene

from accountability.events import vocabulary as v
from accountability.events.commands import Actor
from accountability.events.countries import COUNTRIES
from accountability.events.policy import DEFAULT_POLICY, POLICIES, DeadlinePolicy
from accountability.projections import audit_log, case_file, gaps
from accountability.projections import country_record as cr
from accountability.projections import statistics as st
from accountability.projections.paging import CursorError, Page, decode_cursor, encode_cursor

from .access import principal, restricted_to
from .case_types import AuditConnection, CaseConnection, CaseFile
from .context import RequestContext
from .country_types import (
    CasesBehind,
    CountryConnection,
    CountryFigure,
    CountryRecord,
    Statistics,
    TransparencyGaps,
)
from .errors import BadInput, NotFound
from .scalars import Instant
from .types import AllegationType, PersonnelCategory
from .types import DeadlinePolicy as DeadlinePolicyType

MAX_PAGE: Final = 100
MAX_AUDIT_PAGE: Final = 500

CountryOrder = graphene.Enum.from_enum(
    cr.CountryMeasure, description="What to rank countries by; the README gives each formula."
)


class CaseFilter(graphene.InputObjectType):
    member_state = graphene.String(description="ISO 3166-1 alpha-3 of an alleged perpetrator")
    status = graphene.String(description="open or closed")
    un_status = graphene.String(description="in the UN's status vocabulary")
    mission = graphene.String()
    allegation_type = graphene.Field(AllegationType)
    received_from = graphene.Field(Instant)
    received_to = graphene.Field(Instant)


def _context(info: Any) -> RequestContext:
    context = info.context
    if not isinstance(context, RequestContext):  # pragma: no cover - wiring error
        raise TypeError("the GraphQL context must be a RequestContext")
    return context


def require_actor(info: Any) -> Actor:
    """The caller; refused as unauthenticated without a credential (see ``access.py``)."""
    return principal(info)


def _country(code: str, field: str) -> str:
    if code not in COUNTRIES:
        raise BadInput(
            f"unknown country code '{code}' (ISO 3166-1 alpha-3)",
            field=field,
            code="UNKNOWN_COUNTRY",
        )
    return code


def _page_size(first: int | None, limit: int) -> int:
    if first is None or not 1 <= first <= limit:
        given = "null" if first is None else first
        raise BadInput(f"first must be between 1 and {limit}, not {given}", field="first")
    return first


def _policy(label: str | None) -> DeadlinePolicy:
    if label is None:
        return DEFAULT_POLICY
    policy = POLICIES.get(label)
    if policy is None:
        known = ", ".join(sorted(POLICIES))
        raise BadInput(
            f"unknown deadline policy '{label}'; known: {known}", field="policy",
            code="UNKNOWN_POLICY",
        )  # fmt: skip
    return policy


def _year(year: int | None) -> int | None:
    if year is not None and not 1990 <= year <= 2100:
        raise BadInput(f"year {year} is outside 1990-2100", field="year")
    return year


_RECORD_ARGS: Final = {
    "year": graphene.Int(description="only reports received that year"),
    "as_of": graphene.Argument(Instant, description="as recorded by then (default: now)"),
    "policy": graphene.String(
        description=f"a deadline policy label (default {DEFAULT_POLICY.label})"
    ),
}


class Query(graphene.ObjectType):
    country = graphene.Field(
        CountryRecord,
        code=graphene.String(required=True, description="ISO 3166-1 alpha-3"),
        **_RECORD_ARGS,
        description="A Member State's follow-up record (public: aggregates only).",
    )
    countries = graphene.Field(
        CountryConnection,
        required=True,
        order_by=graphene.Argument(CountryOrder, default_value=cr.CountryMeasure.FOLLOW_UP_SCORE),
        descending=graphene.Boolean(default_value=True),
        first=graphene.Int(default_value=50),
        after=graphene.String(),
        **_RECORD_ARGS,
        description="Countries with allegations against their nationals, ranked by a measure.",
    )
    country_cases = graphene.Field(
        CasesBehind,
        required=True,
        code=graphene.String(required=True),
        figure=graphene.Argument(CountryFigure, required=True),
        category=graphene.Argument(
            PersonnelCategory,
            description="only cases involving nationals of this category (a figure that "
            "counts cases; with ALLEGATIONS, the cases behind byCategory)",
        ),
        **_RECORD_ARGS,
        description="The cases behind one figure of a country record.",
    )
    case = graphene.Field(
        CaseFile,
        id=graphene.ID(required=True),
        as_of=graphene.Argument(Instant),
        policy=graphene.String(),
    )
    cases = graphene.Field(
        CaseConnection,
        required=True,
        filter=graphene.Argument(CaseFilter),
        first=graphene.Int(default_value=20),
        after=graphene.String(),
        as_of=graphene.Argument(Instant),
    )
    statistics = graphene.Field(
        Statistics,
        required=True,
        year=graphene.Int(),
        quarter=graphene.Int(description="1 to 4, with year"),
        received_from=graphene.Argument(Instant, description="with receivedTo, a custom period"),
        received_to=graphene.Argument(Instant, description="exclusive"),
        as_of=graphene.Argument(Instant),
        description="UN-style tables of the allegations received in a period (public).",
    )
    transparency_gaps = graphene.Field(
        TransparencyGaps,
        required=True,
        received_from=graphene.Argument(Instant),
        received_to=graphene.Argument(Instant),
        as_of=graphene.Argument(Instant),
        policy=graphene.String(),
    )
    deadline_policies = graphene.List(graphene.NonNull(DeadlinePolicyType), required=True)
    audit_trail = graphene.Field(
        AuditConnection,
        required=True,
        stream_id=graphene.String(required=True, description="case:<id> or state:<ISO3>"),
        first=graphene.Int(default_value=100),
        after=graphene.String(),
    )

    @staticmethod
    async def resolve_country(
        root: None, info: Any, *, code: str, year: int | None = None,
        as_of: datetime | None = None, policy: str | None = None,
    ) -> cr.CountryRecord:  # fmt: skip
        context = _context(info)
        _country(code, "code")
        chosen, now, year = _policy(policy), context.clock(), _year(year)
        records = await context.reader.read(
            lambda conn: cr.country_records(conn, chosen, now, as_of=as_of, year=year, codes=[code])
        )
        return records[code]

    @staticmethod
    async def resolve_countries(
        root: None, info: Any, *, order_by: cr.CountryMeasure | None, descending: bool | None,
        first: int | None,
        after: str | None = None, year: int | None = None, as_of: datetime | None = None,
        policy: str | None = None,
    ) -> Page[dict[str, Any]]:  # fmt: skip
        context = _context(info)
        first = _page_size(first, MAX_PAGE)
        order_by = order_by or cr.CountryMeasure.FOLLOW_UP_SCORE  # an explicit null
        descending = True if descending is None else descending
        chosen, now, year = _policy(policy), context.clock(), _year(year)
        records = await context.reader.read(
            lambda conn: cr.country_records(conn, chosen, now, as_of=as_of, year=year)
        )
        ranked = cr.rank_countries(list(records.values()), order_by, descending)
        start = 0
        if after is not None:
            try:
                (start,) = decode_cursor(after, 1)
            except CursorError as exc:
                raise BadInput(str(exc), field="after") from None
            if not isinstance(start, int):
                raise BadInput(f"malformed cursor '{after}'", field="after")
        edges: list[dict[str, Any]] = [
            {"cursor": encode_cursor(start + i + 1), "rank": start + i + 1, "node": record}
            for i, record in enumerate(ranked[start : start + first])
        ]
        return Page(edges, start + first < len(ranked), edges[-1]["cursor"] if edges else None)

    @staticmethod
    async def resolve_country_cases(
        root: None, info: Any, *, code: str, figure: Any, year: int | None = None,
        as_of: datetime | None = None, policy: str | None = None, category: Any = None,
    ) -> dict[str, Any]:  # fmt: skip
        context = _context(info)
        _country(code, "code")
        chosen, now, year = _policy(policy), context.clock(), _year(year)
        figure = getattr(figure, "value", figure)  # graphene passes the enum's member
        category = getattr(category, "value", category)
        if category is not None and figure not in cr.COUNTS:
            raise BadInput(
                f"{figure} adds up a total, not cases: it takes no category", field="category"
            )

        def read(conn: Any) -> tuple[list[str], int]:
            ids = cr.cases_behind(
                conn, code, figure, chosen, now, as_of=as_of, year=year, category=category
            )
            if category is not None:
                return ids, len(ids)
            record = cr.country_records(conn, chosen, now, as_of=as_of, year=year, codes=[code])
            return ids, record[code].figures[figure]

        case_ids, value = await context.reader.read(read)
        return {
            "code": code, "figure": figure, "year": year, "as_of": as_of or now,
            "policy": chosen.label, "value": value, "case_ids": case_ids,
            "category": category and v.PersonnelCategory(category),
        }  # fmt: skip

    @staticmethod
    async def resolve_case(
        root: None, info: Any, *, id: str, as_of: datetime | None = None,
        policy: str | None = None,
    ) -> case_file.CaseView:  # fmt: skip
        context = _context(info)
        chosen, now = _policy(policy), context.clock()
        view = await context.reader.read(
            lambda conn: case_file.get_case(conn, id, chosen, now, as_of)
        )
        if view is None:
            raise NotFound(f"no case '{id}'", field="id", code="CASE_NOT_FOUND")
        return view

    @staticmethod
    async def resolve_cases(
        root: None, info: Any, *, first: int | None, after: str | None = None,
        filter: dict[str, Any] | None = None, as_of: datetime | None = None,
    ) -> Page[case_file.CaseSummary]:  # fmt: skip
        context = _context(info)
        first = _page_size(first, MAX_PAGE)
        given = dict(filter or {})
        if given.get("member_state") is not None:
            _country(given["member_state"], "filter.memberState")
        only = restricted_to(principal(info))
        if only is not None:
            given["member_state"] = only
        if given.get("allegation_type") is not None:
            given["allegation_type"] = given["allegation_type"].value
        filters = case_file.CaseFilter(**given)
        try:
            return await context.reader.read(
                lambda conn: case_file.list_cases(conn, filters, first, after, as_of)
            )
        except CursorError as exc:
            raise BadInput(str(exc), field="after") from None

    @staticmethod
    async def resolve_statistics(
        root: None, info: Any, *, year: int | None = None, quarter: int | None = None,
        received_from: datetime | None = None, received_to: datetime | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        context = _context(info)
        start, end = _period(year, quarter, received_from, received_to)
        now = context.clock()
        result = await context.reader.read(lambda conn: st.statistics(conn, start, end, now, as_of))
        return {
            "received_from": result.received_from,
            "received_to": result.received_to,
            "as_of": result.as_of,
            "policy": result.policy,
            "allegations": result.allegations,
            "cases": result.cases,
            "tables": [{"name": t.name, "total": t.total, "rows": t.rows} for t in result.tables],
        }

    @staticmethod
    async def resolve_transparency_gaps(
        root: None, info: Any, *, received_from: datetime | None = None,
        received_to: datetime | None = None, as_of: datetime | None = None,
        policy: str | None = None,
    ) -> gaps.Gaps:  # fmt: skip
        context = _context(info)
        chosen, now = _policy(policy), context.clock()
        return await context.reader.read(
            lambda conn: gaps.transparency_gaps(
                conn, chosen, now, as_of=as_of,
                received_from=received_from, received_to=received_to,
            )
        )  # fmt: skip

    @staticmethod
    def resolve_deadline_policies(root: None, info: Any) -> list[DeadlinePolicy]:
        return list(POLICIES.values())

    @staticmethod
    async def resolve_audit_trail(
        root: None, info: Any, stream_id: str, first: int | None, after: str | None = None
    ) -> Page[audit_log.AuditEntry]:
        context = _context(info)
        first = _page_size(first, MAX_AUDIT_PAGE)
        kind, _, name = stream_id.partition(":")
        if kind not in ("case", "state") or not name:
            raise BadInput(
                f"malformed stream id {stream_id!r}: case:<id> or state:<ISO3>", field="streamId"
            )
        try:
            return await context.reader.read(
                lambda conn: audit_log.audit_trail(conn, stream_id, first, after)
            )
        except CursorError as exc:
            raise BadInput(str(exc), field="after") from None


def _period(
    year: int | None,
    quarter: int | None,
    received_from: datetime | None,
    received_to: datetime | None,
) -> tuple[datetime, datetime]:
    """A statistics period: a year, a quarter of a year, or a custom range."""
    if received_from is not None or received_to is not None:
        if year is not None or quarter is not None:
            raise BadInput("give either year (and quarter) or receivedFrom and receivedTo")
        if received_from is None or received_to is None or received_from >= received_to:
            raise BadInput("receivedFrom must be before receivedTo; both are needed",
                           field="receivedFrom")  # fmt: skip
        return received_from, received_to
    if year is None:
        raise BadInput("give a year (and optionally a quarter), or receivedFrom and receivedTo",
                       field="year")  # fmt: skip
    _year(year)
    if quarter is None:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    if not 1 <= quarter <= 4:
        raise BadInput(f"quarter must be 1 to 4, not {quarter}", field="quarter")
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = (
        datetime(year + 1, 1, 1, tzinfo=UTC)
        if quarter == 4
        else datetime(year, 3 * quarter + 1, 1, tzinfo=UTC)
    )
    return start, end
