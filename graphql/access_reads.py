"""What confidential reads leave in the access log: each read, and the ids it names."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from accountability.projections.audit_log import AuditEntry
from accountability.projections.paging import Page

from .context import RequestContext

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


# --- what a read records ---------------------------------------------------------------


Recorder = Callable[[dict[str, Any], Any], Sequence[str]]


def page_ids(_args: dict[str, Any], page: Any) -> list[str]:
    return [item.case_id for item in page.items]


def case_ids(_args: dict[str, Any], result: Any) -> list[str]:
    return list(result["case_ids"])


def case(args: dict[str, Any], _result: Any) -> list[str]:
    return [str(args["id"])]


def gap_ids(_args: dict[str, Any], gaps: Any) -> list[str]:
    found = {
        gap.case_id
        for name in ("never_published", "victims_not_interviewed",
                     "closed_without_investigation", "silent_states")
        for gap in getattr(gaps, name)
    }  # fmt: skip
    return sorted(found)


def stream(args: dict[str, Any], _result: Any) -> list[str]:
    return [str(args["stream_id"])]


def event(args: dict[str, Any], _result: Any) -> list[str]:
    return [str(args["event_id"])]


def checkpoints(args: dict[str, Any], _result: Any) -> list[str]:
    return [f"checkpoint:{args['from_checkpoint_id']}",
            f"checkpoint:{args.get('to_checkpoint_id') or 'latest'}"]  # fmt: skip


def streamed(target: Callable[[dict[str, Any]], str]) -> Recorder:
    """A subscription records what it watches when it starts, then each event it sends."""

    def ids(args: dict[str, Any], result: Any) -> list[str]:
        if isinstance(result, AuditEntry):
            return [result.event_id]
        return [target(args)]

    return ids


def access_log(args: dict[str, Any], page: Any) -> list[str]:
    return [str(item.entry_id) for item in page.items]


def letters(_args: dict[str, Any], page: Any) -> list[str]:
    """A dead letter holds an event's bytes: what was read is its stream, where known."""
    read = [item.stream_id or f"dead-letter:{item.letter_id}" for item in page.items]
    return list(dict.fromkeys(read))


def replayed(args: dict[str, Any], report: Any) -> list[str]:
    return [f"dead-letter:{args['id']}", str(report.scope)]
