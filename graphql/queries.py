"""Queries: country records are public aggregates; case detail and audit need a credential."""

from typing import Any, Final

import graphene

from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX, Actor
from accountability.events.countries import COUNTRIES
from accountability.events.vocabulary import Role
from accountability.projections import queries as q

from .context import RequestContext
from .errors import UNAUTHENTICATED_MESSAGE, BadInput, Forbidden, NotFound, Unauthenticated
from .scalars import Instant
from .types import (
    AllegationType,
    AuditConnection,
    CaseConnection,
    CaseFile,
    CountryConnection,
    CountryRecord,
)

MAX_PAGE: Final = 100
MAX_AUDIT_PAGE: Final = 500

CountryOrder = graphene.Enum.from_enum(
    q.CountryMeasure, description="What to rank countries by; see the README for formulas."
)


class CaseFilter(graphene.InputObjectType):
    member_state = graphene.String(description="ISO 3166-1 alpha-3 of an alleged perpetrator")
    status = graphene.String(description="open or closed")
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
    actor = _context(info).actor
    if actor is None:
        raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
    return actor


def _country(code: str, field: str) -> str:
    if code not in COUNTRIES:
        raise BadInput(
            f"unknown country code '{code}' (ISO 3166-1 alpha-3)",
            field=field,
            code="UNKNOWN_COUNTRY",
        )
    return code


def _page_size(first: int, limit: int) -> int:
    if not 1 <= first <= limit:
        raise BadInput(f"first must be between 1 and {limit}, not {first}", field="first")
    return first


class Query(graphene.ObjectType):
    country = graphene.Field(
        CountryRecord,
        code=graphene.String(required=True, description="ISO 3166-1 alpha-3"),
        description="A Member State's follow-up record (public: aggregates only).",
    )
    countries = graphene.Field(
        CountryConnection,
        required=True,
        order_by=graphene.Argument(
            CountryOrder, default_value=q.CountryMeasure.ACCOUNTABILITY_RATE
        ),
        descending=graphene.Boolean(default_value=True),
        first=graphene.Int(default_value=50),
        after=graphene.String(),
        description="Countries with allegations against their nationals, ranked by a measure.",
    )
    case = graphene.Field(CaseFile, id=graphene.ID(required=True))
    cases = graphene.Field(
        CaseConnection,
        required=True,
        filter=graphene.Argument(CaseFilter),
        first=graphene.Int(default_value=20),
        after=graphene.String(),
    )
    audit_trail = graphene.Field(
        AuditConnection,
        required=True,
        stream_id=graphene.String(required=True, description="case:<id> or state:<ISO3>"),
        first=graphene.Int(default_value=100),
        after=graphene.String(),
    )

    @staticmethod
    async def resolve_country(root: None, info: Any, code: str) -> q.CountryRecord:
        context = _context(info)
        _country(code, "code")
        now = context.clock()
        records = await context.reader.read(
            lambda conn: q.country_records(conn, context.policy, now, [code])
        )
        return records[code]

    @staticmethod
    async def resolve_countries(
        root: None,
        info: Any,
        *,
        order_by: q.CountryMeasure,
        descending: bool,
        first: int,
        after: str | None = None,
    ) -> q.Page[dict[str, Any]]:
        context = _context(info)
        _page_size(first, MAX_PAGE)
        now = context.clock()
        records = await context.reader.read(
            lambda conn: q.country_records(conn, context.policy, now)
        )
        ranked = q.rank_countries(list(records.values()), order_by, descending)
        start = 0
        if after is not None:
            try:
                (start,) = q.decode_cursor(after, 1)
            except q.CursorError as exc:
                raise BadInput(str(exc), field="after") from None
            if not isinstance(start, int):
                raise BadInput(f"malformed cursor '{after}'", field="after")
        window = ranked[start : start + first]
        edges: list[dict[str, Any]] = [
            {"cursor": q.encode_cursor(start + i + 1), "rank": start + i + 1, "node": record}
            for i, record in enumerate(window)
        ]
        return q.Page(edges, start + first < len(ranked), edges[-1]["cursor"] if edges else None)

    @staticmethod
    async def resolve_case(root: None, info: Any, id: str) -> q.CaseView:
        actor = require_actor(info)
        context = _context(info)
        now = context.clock()
        view = await context.reader.read(lambda conn: q.get_case(conn, id, context.policy, now))
        if view is None:
            raise NotFound(f"no case '{id}'", field="id", code="CASE_NOT_FOUND")
        if actor.role is Role.MEMBER_STATE and actor.member_state not in view.nationalities:
            raise Forbidden(f"case {id} involves no national of {actor.member_state}", field="id")
        return view

    @staticmethod
    async def resolve_cases(
        root: None,
        info: Any,
        first: int,
        after: str | None = None,
        filter: dict[str, Any] | None = None,
    ) -> q.Page[q.CaseSummary]:
        actor = require_actor(info)
        context = _context(info)
        _page_size(first, MAX_PAGE)
        given = dict(filter or {})
        if given.get("member_state") is not None:
            _country(given["member_state"], "filter.memberState")
        if actor.role is Role.MEMBER_STATE:
            if given.get("member_state") not in (None, actor.member_state):
                raise Forbidden(
                    f"{actor.member_state} may list only cases involving its own nationals",
                    field="filter.memberState",
                )
            given["member_state"] = actor.member_state
        if given.get("allegation_type") is not None:
            given["allegation_type"] = given["allegation_type"].value
        filters = q.CaseFilter(**given)
        try:
            return await context.reader.read(lambda conn: q.list_cases(conn, filters, first, after))
        except q.CursorError as exc:
            raise BadInput(str(exc), field="after") from None

    @staticmethod
    async def resolve_audit_trail(
        root: None, info: Any, stream_id: str, first: int, after: str | None = None
    ) -> q.Page[q.AuditEntry]:
        actor = require_actor(info)
        context = _context(info)
        _page_size(first, MAX_AUDIT_PAGE)
        if actor.role is Role.MEMBER_STATE:
            await _ensure_stream_visible(context, actor, stream_id)
        try:
            return await context.reader.read(
                lambda conn: q.audit_trail(conn, stream_id, first, after)
            )
        except q.CursorError as exc:
            raise BadInput(str(exc), field="after") from None


async def _ensure_stream_visible(context: RequestContext, actor: Actor, stream_id: str) -> None:
    member_state = actor.member_state or ""
    if stream_id.startswith(STATE_STREAM_PREFIX):
        if stream_id.removeprefix(STATE_STREAM_PREFIX) == member_state:
            return
    elif stream_id.startswith(CASE_STREAM_PREFIX):
        case_id = stream_id.removeprefix(CASE_STREAM_PREFIX)
        if await context.reader.read(lambda conn: q.case_involves(conn, case_id, member_state)):
            return
    raise Forbidden(f"{member_state} may not read the audit trail of {stream_id}", field="streamId")
