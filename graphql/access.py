"""Who may read and do what: one policy table, enforced by one graphql-core middleware.

Every field of every operation (queries, mutations, subscriptions) passes through
:class:`AccessMiddleware`, which the API installs for each execution. It looks the
field up in :data:`POLICY` (``Type.field``, or ``Type.*`` for a type's other fields)
and refuses it before its resolver runs when the caller's role is not listed, with
UNAUTHENTICATED for the public and FORBIDDEN for a principal. A field that no rule
covers is refused: a new field is closed until someone decides who may read it.

A rule may name a data-scope check (``own_case``, ``own_country`` …) that needs the
arguments, the parent object or the database; the middleware runs it too. Resolvers
keep only what shapes their query (``cases`` of a Member State are filtered to its
nationals) and call the helpers below for it. docs/adr/0013-access-control.md has
the reasons: what counts as victim detail, and why a Member State gets the same
answer for a foreign case as for a missing one.
"""

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from inspect import isawaitable
from typing import Any, Final, Protocol

from sqlalchemy import Connection, select

from accountability.events.commands import CASE_STREAM_PREFIX, STATE_STREAM_PREFIX, Actor
from accountability.events.vocabulary import Role
from accountability.projections import case_file
from accountability.projections.audit_log import AuditEntry, audit_log
from accountability.projections.paging import Page
from graphql import GraphQLResolveInfo, OperationType

from .context import RequestContext, current_actor
from .errors import UNAUTHENTICATED_MESSAGE, ApiError, Forbidden, Unauthenticated
from .types import Rejected

# --- who ------------------------------------------------------------------------------

Audience = frozenset[Role | None]
"""The roles a rule admits; ``None`` stands for the public (no credential)."""

OFFICER, MEMBER_STATE, OVERSIGHT = Role.OFFICER, Role.MEMBER_STATE, Role.OVERSIGHT
EVERYONE: Final[Audience] = frozenset({None, OFFICER, MEMBER_STATE, OVERSIGHT})
CREDENTIAL: Final[Audience] = frozenset({OFFICER, MEMBER_STATE, OVERSIGHT})
SUBMITTERS: Final[Audience] = frozenset({OFFICER, MEMBER_STATE})
VICTIM_DETAIL: Final[Audience] = frozenset({OFFICER, MEMBER_STATE})
UN_WIDE: Final[Audience] = frozenset({OFFICER, OVERSIGHT})
OVERSIGHT_ONLY: Final[Audience] = frozenset({OVERSIGHT})


def principal(info: Any) -> Actor:
    """The caller, for a resolver that shapes its answer by who asks."""
    actor = current_actor.get()
    if actor is None:
        raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
    return actor


def restricted_to(actor: Actor) -> str | None:
    """The Member State whose nationals' cases are all ``actor`` may see; None for all."""
    if actor.role is Role.MEMBER_STATE:
        return actor.member_state or "---"  # a member_state without a country sees nothing
    return None


# --- what was read: the access log ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read:
    """One confidential read (or refusal) of a request, for the access log."""

    action: str
    outcome: str
    ids: tuple[str, ...]
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """An entry of the access log as the ``accessLog`` query shows it."""

    entry_id: int
    at: datetime
    principal_id: str
    role: str
    member_state: str | None
    action: str
    outcome: str
    ids: list[str]
    arguments: dict[str, Any]
    cursor: str


class AccessLogReader(Protocol):
    async def page(
        self, *, first: int, after: str | None, principal_id: str | None, since: datetime | None
    ) -> Page[AccessRecord]:
        """Entries oldest first; raises CursorError for a cursor it did not issue."""
        ...


@dataclass(frozen=True, slots=True)
class AccessContext(RequestContext):
    """The context of one operation: what it read is collected for the access log."""

    access_log: AccessLogReader | None = None
    reads: list[Read] = field(default_factory=list)


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


# --- what a read records ---------------------------------------------------------------


Recorder = Callable[[dict[str, Any], Any], Sequence[str]]


def _page_ids(_args: dict[str, Any], page: Any) -> list[str]:
    return [item.case_id for item in page.items]


def _case_ids(_args: dict[str, Any], result: Any) -> list[str]:
    return list(result["case_ids"])


def _case(args: dict[str, Any], _result: Any) -> list[str]:
    return [str(args["id"])]


def _gap_ids(_args: dict[str, Any], gaps: Any) -> list[str]:
    found = {
        gap.case_id
        for name in ("never_published", "victims_not_interviewed",
                     "closed_without_investigation", "silent_states")
        for gap in getattr(gaps, name)
    }  # fmt: skip
    return sorted(found)


def _stream(args: dict[str, Any], _result: Any) -> list[str]:
    return [str(args["stream_id"])]


def _event(args: dict[str, Any], _result: Any) -> list[str]:
    return [str(args["event_id"])]


def _checkpoints(args: dict[str, Any], _result: Any) -> list[str]:
    return [f"checkpoint:{args['from_checkpoint_id']}",
            f"checkpoint:{args.get('to_checkpoint_id') or 'latest'}"]  # fmt: skip


def _streamed(target: Callable[[dict[str, Any]], str]) -> Recorder:
    """A subscription records what it watches when it starts, then each event it sends."""

    def ids(args: dict[str, Any], result: Any) -> list[str]:
        if isinstance(result, AuditEntry):
            return [result.event_id]
        return [target(args)]

    return ids


def _access_log(args: dict[str, Any], page: Any) -> list[str]:
    return [str(item.entry_id) for item in page.items]


def _letters(_args: dict[str, Any], page: Any) -> list[str]:
    """A dead letter holds an event's bytes: what was read is its stream, where known."""
    read = [item.stream_id or f"dead-letter:{item.letter_id}" for item in page.items]
    return list(dict.fromkeys(read))


def _replayed(args: dict[str, Any], report: Any) -> list[str]:
    return [f"dead-letter:{args['id']}", str(report.scope)]


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    roles: Audience
    scope: Scope | None = None
    after: After | None = None
    record: Recorder | None = None
    why: str = ""


_CASE_FILE_FIELDS: Final = (
    "caseId", "asOf", "policy", "recordedFrom", "lastSequence", "status", "unStatus",
    "allegationType", "entity", "entityName", "mission", "incidentDate",
    "incidentDatePrecision", "receivedAt", "closedAt", "closureReason", "publishedAt",
    "substantiated", "nationalities", "victimGroups", "perpetrators", "followUps",
    "investigations", "paternityClaims", "deadlines",
)  # fmt: skip

PUBLIC: Final = Rule(EVERYONE)
CONFIDENTIAL: Final = Rule(CREDENTIAL)
VICTIMS: Final = Rule(VICTIM_DETAIL, why="victim detail is for officers and the Member State")
GAPS: Final = Rule(UN_WIDE, why="transparency gaps are for officers and oversight bodies")
OWN_RESULTS: Final = Rule(SUBMITTERS, why="command results are for whoever sent the command")
ACCESS_LOG: Final = Rule(OVERSIGHT_ONLY, why="the access log is for oversight bodies")
OPERATIONS: Final = Rule(UN_WIDE, why="dead letters are for officers and oversight bodies")

POLICY: Final[dict[str, Rule]] = {
    # Public aggregates and the ledger's signed statements.
    "Query.country": PUBLIC,
    "Query.countries": PUBLIC,
    "Query.statistics": PUBLIC,
    "Query.deadlinePolicies": PUBLIC,
    "Query.latestCheckpoint": PUBLIC,
    "Query.checkpoint": PUBLIC,
    "Query.checkpointPublicKey": PUBLIC,
    # Confidential reads, each recorded in the access log.
    "Query.countryCases": Rule(CREDENTIAL, own_country, record=_case_ids),
    "Query.case": Rule(CREDENTIAL, own_case, record=_case),
    "Query.cases": Rule(CREDENTIAL, own_cases, record=_page_ids),
    "Query.transparencyGaps": Rule(UN_WIDE, record=_gap_ids, why=GAPS.why),
    "Query.auditTrail": Rule(CREDENTIAL, own_stream, record=_stream),
    "Query.inclusionProof": Rule(CREDENTIAL, own_event, record=_event),
    "Query.consistencyProof": Rule(CREDENTIAL, record=_checkpoints),
    "Query.accessLog": Rule(OVERSIGHT_ONLY, record=_access_log, why=ACCESS_LOG.why),
    # Operations (ADR 0015): how far the read models have come is no secret; dead letters
    # are log records, for those who may read every stream, and reading or replaying
    # one is recorded like any confidential read.
    "Query.freshness": PUBLIC,
    "Query.deadLetters": Rule(UN_WIDE, record=_letters, why=OPERATIONS.why),
    "Mutation.replayDeadLetter": Rule(UN_WIDE, record=_replayed, why=OPERATIONS.why),
    # Commands: who may issue which one, on which case, is the decider's to say.
    "Mutation.*": Rule(
        SUBMITTERS,
        after=conceal_foreign_cases,
        why="oversight bodies read and verify; they record nothing",
    ),
    "Subscription.caseEvents": Rule(
        CREDENTIAL, own_case, record=_streamed(lambda a: f"case:{a['case_id']}")
    ),
    "Subscription.countryEvents": Rule(
        CREDENTIAL, own_country, record=_streamed(lambda a: f"country:{a['code']}")
    ),
    # Types: their fields are as open as the fields that lead to them, except as listed.
    "CountryRecord.*": PUBLIC,
    "CategoryCount.*": PUBLIC,
    "Figure.*": PUBLIC,
    "Replies.*": PUBLIC,
    "Investigations.*": PUBLIC,
    "Prosecutions.*": PUBLIC,
    "FollowUpRequests.*": PUBLIC,
    "Paternity.*": PUBLIC,
    "Commitments.*": PUBLIC,
    "CountryEdge.*": PUBLIC,
    "CountryConnection.*": PUBLIC,
    "PageInfo.*": PUBLIC,
    "Statistics.*": PUBLIC,
    "StatisticsTable.*": PUBLIC,
    "StatisticsRow.*": PUBLIC,
    "DeadlinePolicy.*": PUBLIC,
    "Checkpoint.*": PUBLIC,
    "PartitionTreeHead.*": PUBLIC,
    "CasesBehind.*": CONFIDENTIAL,
    # A case file, field by field: a field added later is closed until it is listed.
    **{f"CaseFile.{name}": CONFIDENTIAL for name in _CASE_FILE_FIELDS},
    "CaseFile.victims": VICTIMS,
    # Narratives and notes (ADR 0014): sealed in the log and opened only for officers; a
    # Member State learns they exist (WITHHELD), oversight bodies not even that.
    "CaseFile.narrative": VICTIMS,
    "CaseFile.notes": VICTIMS,
    "CaseText.*": VICTIMS,
    "CaseFile.victimDataErasedAt": CONFIDENTIAL,
    "CaseFile.erasureReason": CONFIDENTIAL,
    "EventSignature.*": OWN_RESULTS,
    "Victim.*": VICTIMS,
    "VictimGroups.*": CONFIDENTIAL,
    "Perpetrator.*": CONFIDENTIAL,
    "InterimActionTaken.*": CONFIDENTIAL,
    "Sanction.*": CONFIDENTIAL,
    "Prosecution.*": CONFIDENTIAL,
    "FollowUp.*": CONFIDENTIAL,
    "Investigation.*": CONFIDENTIAL,
    "PaternityClaim.*": CONFIDENTIAL,
    "Deadline.*": CONFIDENTIAL,
    "CaseSummary.*": CONFIDENTIAL,
    "CaseEdge.*": CONFIDENTIAL,
    "CaseConnection.*": CONFIDENTIAL,
    "TransparencyGaps.*": GAPS,
    "Gap.*": GAPS,
    "AuditEntry.*": CONFIDENTIAL,
    "AuditEntry.envelope": Rule(CREDENTIAL, no_victim_detail),
    "AuditActor.*": CONFIDENTIAL,
    "AuditEdge.*": CONFIDENTIAL,
    "AuditConnection.*": CONFIDENTIAL,
    "InclusionProof.*": CONFIDENTIAL,
    "ConsistencyProof.*": CONFIDENTIAL,
    "PartitionConsistencyProof.*": CONFIDENTIAL,
    "Accepted.*": OWN_RESULTS,
    "Rejected.*": OWN_RESULTS,
    "Event.*": OWN_RESULTS,
    "Actor.*": OWN_RESULTS,
    "AccessLogEntry.*": ACCESS_LOG,
    "ProjectionFreshness.*": PUBLIC,
    "PartitionPosition.*": PUBLIC,
    "DeadLetterConnection.*": OPERATIONS,
    "DeadLetterEdge.*": OPERATIONS,
    "DeadLetter.*": OPERATIONS,
    "DeadLetter.record": Rule(UN_WIDE, no_victim_detail),
    "DeadLetter.recordBase64": Rule(UN_WIDE, no_victim_detail),
    "ReplayResult.*": OPERATIONS,
    "AccessLogEdge.*": ACCESS_LOG,
    "AccessLogConnection.*": ACCESS_LOG,
}


def rule_for(type_name: str, field_name: str) -> Rule | None:
    return POLICY.get(f"{type_name}.{field_name}") or POLICY.get(f"{type_name}.*")


# --- the middleware ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Arguments as JSON-ready values for the access log."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _note(info: GraphQLResolveInfo, read: Read) -> None:
    context = info.context
    if isinstance(context, AccessContext) and read not in context.reads:
        context.reads.append(read)


def _type_name(info: GraphQLResolveInfo) -> str:
    """The parent type's name; the root types by their role, whatever a schema calls them."""
    parent, schema = info.parent_type, info.schema
    if parent is schema.query_type:
        return "Query"
    if parent is schema.mutation_type:
        return "Mutation"
    if parent is schema.subscription_type:
        return "Subscription"
    return parent.name


def _action(info: GraphQLResolveInfo) -> str:
    return f"{info.operation.operation.value}.{info.field_name}"


class AccessMiddleware:
    """Checks every field against :data:`POLICY` before its resolver runs."""

    def resolve(
        self, next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any
    ) -> Any:
        type_name, field_name = _type_name(info), info.field_name
        if field_name.startswith("__") or type_name.startswith("__"):
            return next_(root, info, **args)  # introspection describes the schema, not data
        actor = current_actor.get()
        rule = rule_for(type_name, field_name)
        if rule is None:
            raise self._refuse(info, actor, args, None, f"no access rule covers {type_name}."
                               f"{field_name}, so it is refused")  # fmt: skip
        if (actor.role if actor else None) not in rule.roles:
            raise self._refuse(info, actor, args, rule, None)
        if rule.scope is None and rule.after is None and rule.record is None:
            return next_(root, info, **args)
        return self._checked(
            next_, root, info, args, rule=rule, check=Check(actor, info, root, args)
        )

    async def _checked(
        self,
        next_: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        args: dict[str, Any],
        *,
        rule: Rule,
        check: Check,
    ) -> Any:
        if rule.scope is not None:
            try:
                await rule.scope(check)
            except ApiError:
                if rule.record is not None:
                    _note(info, Read(_action(info), "denied", (), _plain(args)))
                raise
        result = next_(root, info, **args)
        if isawaitable(result):
            result = await result
        if rule.after is not None:
            result = await rule.after(check, result)
        if rule.record is not None:
            outcome = (
                "subscribed" if isinstance(result, AsyncIterator)
                else "done" if info.operation.operation is OperationType.MUTATION
                else "read"
            )  # fmt: skip
            ids = tuple(rule.record(args, result))
            _note(info, Read(_action(info), outcome, ids, _plain(args)))
        return result

    @staticmethod
    def _refuse(
        info: GraphQLResolveInfo,
        actor: Actor | None,
        args: dict[str, Any],
        rule: Rule | None,
        message: str | None,
    ) -> ApiError:
        where = f"{_type_name(info)}.{info.field_name}"
        _note(info, Read(_action(info) if info.path.prev is None else where, "denied", (),
                         _plain(args)))  # fmt: skip
        if message is not None or rule is None:
            return Forbidden(message or f"{where} is refused")
        if actor is None:
            return Unauthenticated(UNAUTHENTICATED_MESSAGE)
        allowed = ", ".join(sorted(r.value for r in rule.roles if r is not None))
        reason = f": {rule.why}" if rule.why else ""
        return Forbidden(
            f"{where} is not open to the role {actor.role.value} (only {allowed}){reason}"
        )


MIDDLEWARE: Final = AccessMiddleware()
