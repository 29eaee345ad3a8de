"""Data-scope checks of the access policy: what a Member State may see of a case.

A rule of :data:`~.access.POLICY` may name one of these; the middleware runs it with
the field's arguments, its parent object and the database before the resolver, or
(``After``) on the result. docs/adr/0013-access-control.md says why a Member State
gets the same answer for a foreign case as for a missing one.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX, Actor
from accountability.events.vocabulary import Role
from accountability.projections import case_file
from accountability.projections.audit_log import AuditEntry, audit_log
from graphql import GraphQLResolveInfo

from .context import RequestContext
from .errors import Forbidden
from .types import Rejected

# --- data-scope rules ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    actor: Actor | None
    info: GraphQLResolveInfo
    root: Any
    args: dict[str, Any]

    async def read(self, query: Callable[[Connection], Any]) -> Any:
        context = self.info.context
        if not isinstance(context, RequestContext):  # pragma: no cover - wiring error
            raise TypeError("the GraphQL context must be a RequestContext")
        return await context.reader.read(query)


Scope = Callable[[Check], Awaitable[None]]


def foreign_case(member_state: str | None, case_id: str, field: str) -> Forbidden:
    """The one answer a Member State gets for a case not its own, existing or not."""
    return Forbidden(
        f"{member_state} may see only cases involving its nationals; "
        f"'{case_id}' is not one of them",
        field=field,
        code="FORBIDDEN",
    )


async def own_case(check: Check) -> None:
    """A Member State sees a case only while it involves one of its nationals."""
    actor = check.actor
    if actor is None or actor.role is not Role.MEMBER_STATE:
        return
    key = "case_id" if "case_id" in check.args else "id"
    case_id = str(check.args[key])
    member_state = actor.member_state or ""
    if not await check.read(lambda conn: case_file.case_involves(conn, case_id, member_state)):
        raise foreign_case(actor.member_state, case_id, "caseId" if key == "case_id" else "id")


async def own_country(check: Check) -> None:
    """A Member State sees the cases behind its own record, and no other's."""
    actor = check.actor
    if actor is not None and actor.role is Role.MEMBER_STATE:
        code = check.args["code"]
        if code != actor.member_state:
            raise Forbidden(
                f"{actor.member_state} may see the cases behind its own record only, not {code}'s",
                field="code",
            )


async def own_cases(check: Check) -> None:
    """A Member State lists its nationals' cases; asking for another state's is refused."""
    actor = check.actor
    if actor is None or actor.role is not Role.MEMBER_STATE:
        return
    wanted = (check.args.get("filter") or {}).get("member_state")
    if wanted is not None and wanted != actor.member_state:
        raise Forbidden(
            f"{actor.member_state} may list only cases involving its own nationals",
            field="filter.memberState",
        )


def stream_visible(conn: Connection, actor: Actor, stream_id: str) -> bool:
    """Whether ``actor`` may read the events of ``stream_id``."""
    if actor.role is not Role.MEMBER_STATE:
        return True
    member_state = actor.member_state or ""
    if stream_id.startswith(STATE_STREAM_PREFIX):
        return stream_id.removeprefix(STATE_STREAM_PREFIX) == member_state
    if stream_id.startswith(CASE_STREAM_PREFIX):
        case_id = stream_id.removeprefix(CASE_STREAM_PREFIX)
        return case_file.case_involves(conn, case_id, member_state)
    return False


async def own_stream(check: Check) -> None:
    """A Member State reads the trail of its own stream and of its nationals' cases."""
    actor = check.actor
    if actor is None or actor.role is not Role.MEMBER_STATE:
        return
    stream_id = str(check.args["stream_id"])
    if not await check.read(lambda conn: stream_visible(conn, actor, stream_id)):
        raise Forbidden(
            f"{actor.member_state} may read only its own stream and the cases involving its "
            f"nationals; '{stream_id}' is not one of them",
            field="streamId",
        )


async def own_event(check: Check) -> None:
    """A Member State gets proofs for events it may read; a missing event looks the same."""
    actor = check.actor
    if actor is None or actor.role is not Role.MEMBER_STATE:
        return
    event_id = str(check.args["event_id"])

    def visible(conn: Connection) -> bool:
        row = conn.execute(
            select(audit_log.c.stream_id).where(audit_log.c.event_id == event_id)
        ).first()
        return row is not None and stream_visible(conn, actor, str(row[0]))

    if not await check.read(visible):
        raise Forbidden(
            f"{actor.member_state} may see only events of its own stream and of cases "
            f"involving its nationals; '{event_id}' is not one of them",
            field="eventId",
        )


def names_a_victim(envelope_json: str) -> bool:
    """Whether an event (or the payload a correction puts in its place) is about a victim."""
    try:
        payload = json.loads(envelope_json).get("payload") or {}
        if "victim_id" in payload:
            return True
        corrected = payload.get("corrected_payload")
        return isinstance(corrected, str) and "victim_id" in json.loads(corrected)
    except (ValueError, AttributeError, TypeError):
        return True  # what cannot be read cannot be shown to be harmless


def _event_text(root: Any) -> tuple[str, str] | None:
    """(what, the stored envelope) of an audit entry or of a dead letter's record."""
    if isinstance(root, AuditEntry):
        return f"the envelope of event {root.event_id} ({root.type})", root.envelope
    record = getattr(root, "record", None)
    if isinstance(record, bytes):
        what = f"the record of dead letter {getattr(root, 'letter_id', '?')}"
        return what, record.decode("utf-8", errors="replace")
    return None


async def no_victim_detail(check: Check) -> None:
    """Oversight verifies every event but reads no victim's record (DESIGN §7)."""
    actor = check.actor
    if actor is None or actor.role is not Role.OVERSIGHT:
        return
    found = _event_text(check.root)
    if found is not None and names_a_victim(found[1]):
        raise Forbidden(
            f"{found[0]} is victim detail, which oversight bodies do not read; its hash and "
            "chain state are open to them",
            field=check.info.field_name,
        )


# --- results that must not tell a Member State more than "not yours" --------------------


After = Callable[[Check, Any], Awaitable[Any]]


async def conceal_foreign_cases(check: Check, result: Any) -> Any:
    """A Member State's command on a case not its own is rejected alike, existing or not.

    The decider checks that a case exists before it checks whose it is, so its
    rejections would tell a Member State which case ids exist. The rules stay the
    decider's; only the answer to a case outside the state's scope is made uniform.
    """
    actor = check.actor
    if (
        actor is None
        or actor.role is not Role.MEMBER_STATE
        or not isinstance(result, Rejected)
        or result.code == "FORBIDDEN_ROLE"  # decided on the role alone: it tells nothing
        or not str(result.stream_id).startswith(CASE_STREAM_PREFIX)
    ):
        return result
    case_id = str(result.stream_id).removeprefix(CASE_STREAM_PREFIX)
    member_state = actor.member_state or ""
    if await check.read(lambda conn: case_file.case_involves(conn, case_id, member_state)):
        return result
    answer = foreign_case(actor.member_state, case_id, "caseId")
    return Rejected(
        command_id=result.command_id,
        stream_id=result.stream_id,
        code="FORBIDDEN_MEMBER_STATE",
        message=answer.message,
        field="streamId" if "stream_id" in (check.args.get("input") or {}) else "caseId",
    )
