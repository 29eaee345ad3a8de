"""Who may read and do what: one policy table, enforced by one graphql-core middleware.

Every field of every operation (queries, mutations, subscriptions) passes through
:class:`AccessMiddleware`, which the API installs for each execution. It looks the
field up in :data:`POLICY` (``Type.field``, or ``Type.*`` for a type's other fields)
and refuses it before its resolver runs when the caller's role is not listed, with
UNAUTHENTICATED for the public and FORBIDDEN for a principal. A field that no rule
covers is refused: a new field is closed until someone decides who may read it.

A rule may name a data-scope check (``scopes.py``: ``own_case``, ``own_country`` …)
that needs the arguments, the parent object or the database; the middleware runs it
too, and notes each confidential read for the access log (``access_reads.py``).
Resolvers keep only what shapes their query (``cases`` of a Member State are filtered
to its nationals) and call ``principal`` and ``restricted_to`` below for it.
docs/adr/0013-access-control.md has the reasons: what counts as victim detail, and
why a Member State gets the same answer for a foreign case as for a missing one.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from inspect import isawaitable
from typing import Any, Final

from accountability.events.commands import Actor
from accountability.events.vocabulary import Role
from graphql import GraphQLResolveInfo, OperationType

from . import access_reads as recorded
from .access_reads import AccessContext, Read, Recorder
from .context import current_actor
from .errors import UNAUTHENTICATED_MESSAGE, ApiError, Forbidden, Unauthenticated
from .scopes import (
    After,
    Check,
    Scope,
    conceal_foreign_cases,
    no_victim_detail,
    own_case,
    own_cases,
    own_country,
    own_event,
    own_stream,
)

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
    "Query.countryCases": Rule(CREDENTIAL, own_country, record=recorded.case_ids),
    "Query.case": Rule(CREDENTIAL, own_case, record=recorded.case),
    "Query.cases": Rule(CREDENTIAL, own_cases, record=recorded.page_ids),
    "Query.transparencyGaps": Rule(UN_WIDE, record=recorded.gap_ids, why=GAPS.why),
    "Query.auditTrail": Rule(CREDENTIAL, own_stream, record=recorded.stream),
    "Query.inclusionProof": Rule(CREDENTIAL, own_event, record=recorded.event),
    "Query.consistencyProof": Rule(CREDENTIAL, record=recorded.checkpoints),
    "Query.accessLog": Rule(OVERSIGHT_ONLY, record=recorded.access_log, why=ACCESS_LOG.why),
    # Operations (ADR 0015): how far the read models have come is no secret; dead letters
    # are log records, for those who may read every stream, and reading or replaying
    # one is recorded like any confidential read.
    "Query.freshness": PUBLIC,
    "Query.deadLetters": Rule(UN_WIDE, record=recorded.letters, why=OPERATIONS.why),
    "Mutation.replayDeadLetter": Rule(UN_WIDE, record=recorded.replayed, why=OPERATIONS.why),
    # Commands: who may issue which one, on which case, is the decider's to say.
    "Mutation.*": Rule(
        SUBMITTERS,
        after=conceal_foreign_cases,
        why="oversight bodies read and verify; they record nothing",
    ),
    "Subscription.caseEvents": Rule(
        CREDENTIAL, own_case, record=recorded.streamed(lambda a: f"case:{a['case_id']}")
    ),
    "Subscription.countryEvents": Rule(
        CREDENTIAL, own_country, record=recorded.streamed(lambda a: f"country:{a['code']}")
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
