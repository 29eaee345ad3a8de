"""Operations over GraphQL: dead letters for oversight, their replay, and freshness.

Dead letters are log records a read model could not apply (``projections/
dead_letters.py``); officers and oversight bodies list them and, once the projection
code is fixed, replay them. Replaying a letter replays its stream's open letters in log
order. Freshness says how far each read model has come; every answer also carries it
in ``extensions.freshness``.
"""

import base64
from typing import Any, Final, Protocol, runtime_checkable

import graphene

from accountability.events.vocabulary import Role
from accountability.projections import all_projections
from accountability.projections import dead_letters as letters
from accountability.projections import freshness as progress
from accountability.projections.paging import CursorError, Page
from accountability.projections.replay import ReplayReport
from accountability.projections.runner import checkpoints

from .context import Reader, RequestContext
from .errors import BadInput, Forbidden, NotFound
from .queries import require_actor
from .scalars import Instant
from .types import PageInfo, edges, page_info

MAX_DEAD_LETTER_PAGE: Final = 200
OPERATORS: Final = frozenset({Role.OFFICER, Role.OVERSIGHT})


@runtime_checkable
class DeadLetterDesk(Protocol):
    """A reader that can also replay dead letters (it needs to write)."""

    async def replay_dead_letter(self, letter_id: int) -> ReplayReport | None:
        """Replay the letter's scope; None when there is no such letter."""
        ...


DeadLetterKind = graphene.Enum.from_enum(
    letters.LetterKind,
    description="failed: the projection raised; undecodable: not a readable envelope; "
    "parked: held back behind an earlier dead letter of the same stream",
)
DeadLetterStatus = graphene.Enum.from_enum(letters.LetterStatus)


class DeadLetter(graphene.ObjectType):
    """A log record a read model could not apply, kept with its reason until replayed."""

    id = graphene.ID(required=True)
    projection = graphene.String(required=True, description="the read model, e.g. case_history")
    partition = graphene.Int(required=True)
    offset = graphene.Int(required=True, description="the record's offset in its partition")
    stream_id = graphene.String(description="null when the record does not say")
    event_id = graphene.String()
    event_type = graphene.String()
    sequence = graphene.Int()
    kind = graphene.Field(DeadLetterKind, required=True)
    status = graphene.Field(DeadLetterStatus, required=True)
    reason = graphene.String(required=True)
    attempts = graphene.Int(required=True, description="replays tried so far")
    failed_at = graphene.Field(Instant, required=True)
    resolved_at = graphene.Field(Instant)
    record = graphene.String(
        required=True, description="the record's bytes as UTF-8 (invalid bytes as U+FFFD)"
    )
    record_base64 = graphene.String(required=True, description="the record's exact bytes")

    @staticmethod
    def resolve_id(root: letters.DeadLetter, _info: Any) -> str:
        return str(root.letter_id)

    @staticmethod
    def resolve_record(root: letters.DeadLetter, _info: Any) -> str:
        return root.record.decode("utf-8", errors="replace")

    @staticmethod
    def resolve_record_base64(root: letters.DeadLetter, _info: Any) -> str:
        return base64.b64encode(root.record).decode("ascii")


class DeadLetterEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(DeadLetter, required=True)


class DeadLetterConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(DeadLetterEdge), required=True, resolver=edges)
    page_info = graphene.Field(PageInfo, required=True, resolver=page_info)


class ReplayResult(graphene.ObjectType):
    """What a replay did: the letters applied in order, and the one that still fails."""

    projection = graphene.String(required=True)
    scope = graphene.String(required=True, description="the stream (or partition) replayed")
    replayed = graphene.List(graphene.NonNull(graphene.ID), required=True)
    failed = graphene.ID(description="the letter that still fails; it and later ones stay open")
    error = graphene.String()
    still_open = graphene.Int(required=True)

    @staticmethod
    def resolve_replayed(root: ReplayReport, _info: Any) -> list[str]:
        return [str(i) for i in root.replayed]

    @staticmethod
    def resolve_failed(root: ReplayReport, _info: Any) -> str | None:
        return None if root.failed is None else str(root.failed)


class PartitionPosition(graphene.ObjectType):
    partition = graphene.Int(required=True)
    next_offset = graphene.Int(required=True, description="every offset below it is applied")
    recorded_at = graphene.Field(Instant, description="when the last applied event was recorded")


class ProjectionFreshness(graphene.ObjectType):
    """How far a read model has come in the log."""

    projection = graphene.String(required=True)
    recorded_at = graphene.Field(
        Instant, description="the latest recording instant among the partitions' positions"
    )
    partitions = graphene.List(graphene.NonNull(PartitionPosition), required=True)


def _reader(info: Any) -> Reader:
    context = info.context
    if not isinstance(context, RequestContext):  # pragma: no cover - wiring error
        raise TypeError("the GraphQL context must be a RequestContext")
    return context.reader


def _operator(info: Any) -> None:
    actor = require_actor(info)
    if actor.role not in OPERATORS:
        raise Forbidden("dead letters are for officers and oversight bodies")


def _letter_id(value: str) -> int:
    if not value.isdigit():
        raise BadInput(f"'{value}' is not a dead letter id", field="id")
    return int(value)


class OperationsQuery(graphene.ObjectType):
    dead_letters = graphene.Field(
        DeadLetterConnection,
        required=True,
        first=graphene.Int(default_value=50),
        after=graphene.String(),
        status=graphene.Argument(DeadLetterStatus, description="default: every status"),
        description="Log records a read model could not apply, oldest first "
        "(officers and oversight bodies).",
    )
    freshness = graphene.List(
        graphene.NonNull(ProjectionFreshness),
        required=True,
        description="How far each read model has come (also in every answer's extensions).",
    )

    @staticmethod
    async def resolve_dead_letters(
        root: None, info: Any, *, first: int | None, after: str | None = None, status: Any = None
    ) -> Page[letters.DeadLetter]:
        _operator(info)
        if first is None or not 1 <= first <= MAX_DEAD_LETTER_PAGE:
            raise BadInput(
                f"first must be between 1 and {MAX_DEAD_LETTER_PAGE}, not {first}", field="first"
            )
        chosen = None if status is None else letters.LetterStatus(getattr(status, "value", status))
        try:
            return await _reader(info).read(
                lambda conn: letters.page(conn, first, after, status=chosen)
            )
        except CursorError as exc:
            raise BadInput(str(exc), field="after") from None

    @staticmethod
    async def resolve_freshness(root: None, info: Any) -> list[progress.ProjectionFreshness]:
        names = [p.name for p in all_projections()]
        return await _reader(info).read(lambda conn: progress.positions(conn, checkpoints, names))


class ReplayDeadLetter(graphene.Mutation):
    """Apply a dead letter again through its projection, once the code is fixed.

    Its stream's open letters are replayed in log order, from the first; the replay
    stops at the first that still fails, which stays open with the new reason.
    """

    class Arguments:
        id = graphene.ID(required=True)

    Output = graphene.NonNull(ReplayResult)

    @staticmethod
    async def mutate(root: None, info: Any, id: str) -> ReplayReport:
        _operator(info)
        letter_id = _letter_id(id)
        desk = _reader(info)
        if not isinstance(desk, DeadLetterDesk):  # pragma: no cover - wiring error
            raise TypeError("this API's reader cannot replay dead letters")
        report = await desk.replay_dead_letter(letter_id)
        if report is None:
            raise NotFound(f"no dead letter {letter_id}", field="id")
        return report


class OperationsMutation(graphene.ObjectType):
    replay_dead_letter = ReplayDeadLetter.Field()
