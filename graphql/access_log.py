"""The access log over GraphQL: who read which confidential record, for oversight bodies.

The API writes an entry for every read of a case, a case list, the cases behind a
figure, the transparency gaps, an audit trail or a proof (and for every refusal of
one), and the ``accountability credentials`` commands write one for every
credential created or revoked. The log is only ever appended to.
"""

from datetime import datetime
from typing import Any, Final

import graphene

from accountability.projections.paging import CursorError, Page

from .access_reads import AccessContext, AccessRecord
from .errors import BadInput
from .scalars import Instant
from .types import PageInfo, edges, page_info

MAX_ACCESS_LOG_PAGE: Final = 500


class AccessLogEntry(graphene.ObjectType):
    entry_id = graphene.ID(required=True)
    at = graphene.Field(Instant, required=True)
    principal_id = graphene.String(required=True, description="'public' without a credential")
    role = graphene.String(required=True, description="officer, member_state, oversight, "
                           "public, or operator for the command line")  # fmt: skip
    member_state = graphene.String()
    action = graphene.String(
        required=True, description="query.case, subscription.caseEvents, credentials.revoke …"
    )
    outcome = graphene.String(required=True, description="read, subscribed, denied, created …")
    ids = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="what was read: case ids, stream ids, event ids, credential ids",
    )
    arguments = graphene.JSONString(required=True, description="the request's arguments")


class AccessLogEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(AccessLogEntry, required=True)


class AccessLogConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(AccessLogEdge), required=True, resolver=edges)
    page_info = graphene.Field(PageInfo, required=True, resolver=page_info)


class AccessLogQuery(graphene.ObjectType):
    access_log = graphene.Field(
        AccessLogConnection,
        required=True,
        first=graphene.Int(default_value=100),
        after=graphene.String(),
        principal_id=graphene.String(description="only this principal's entries"),
        since=graphene.Argument(Instant, description="only entries at or after this instant"),
        description="Who read which confidential record, and every credential change, "
        "oldest first (oversight bodies only).",
    )

    @staticmethod
    async def resolve_access_log(
        root: None, info: Any, *, first: int | None, after: str | None = None,
        principal_id: str | None = None, since: datetime | None = None,
    ) -> Page[AccessRecord]:  # fmt: skip
        if first is None or not 1 <= first <= MAX_ACCESS_LOG_PAGE:
            raise BadInput(
                f"first must be between 1 and {MAX_ACCESS_LOG_PAGE}, not {first}", field="first"
            )
        context = info.context
        if not isinstance(context, AccessContext) or context.access_log is None:
            raise TypeError("the access log needs an AccessContext with its reader")
        try:
            return await context.access_log.page(
                first=first, after=after, principal_id=principal_id, since=since
            )
        except CursorError as exc:
            raise BadInput(str(exc), field="after") from None
