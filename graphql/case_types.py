"""GraphQL types of case files, case lists and the audit trail."""

from typing import Any

import graphene

from accountability.events import vocabulary as v
from accountability.events.privacy import OpenedText

from .context import RequestContext, TextOpener
from .scalars import Day, Instant
from .types import (
    AllegationType,
    ClosureReason,
    DeadlineStatus,
    EntityKind,
    InvestigatingEntity,
    PageInfo,
    PersonnelCategory,
    Role,
    edges,
    page_info,
)


class Deadline(graphene.ObjectType):
    kind = graphene.String(required=True, description="reply or investigation")
    due_at = graphene.Field(Instant, required=True)
    status = graphene.Field(DeadlineStatus, required=True)
    done_at = graphene.Field(Instant)
    policy = graphene.String(required=True)
    member_state = graphene.String()
    investigation_id = graphene.String()


class Sanction(graphene.ObjectType):
    kind = graphene.String(required=True)
    imposed_by = graphene.String(required=True)
    months = graphene.Int()
    at = graphene.Field(Instant, required=True)


class Prosecution(graphene.ObjectType):
    outcome = graphene.String(required=True)
    sentence_months = graphene.Int()
    at = graphene.Field(Instant, required=True)


class InterimActionTaken(graphene.ObjectType):
    action = graphene.String(required=True)
    at = graphene.Field(Instant, required=True)


class Perpetrator(graphene.ObjectType):
    perpetrator_id = graphene.String(required=True)
    category = graphene.Field(PersonnelCategory, required=True)
    category_label = graphene.String(required=True)
    nationality = graphene.String(required=True)
    sex = graphene.String(required=True)
    interim_actions = graphene.List(graphene.NonNull(InterimActionTaken), required=True)
    repatriated_at = graphene.Field(Instant)
    referred_at = graphene.Field(Instant, description="referred to national authorities")
    sanctions = graphene.List(graphene.NonNull(Sanction), required=True)
    prosecution = graphene.Field(Prosecution)

    @staticmethod
    def resolve_category(root: dict[str, Any], _info: Any) -> v.PersonnelCategory:
        return v.PersonnelCategory(root["category"])

    @staticmethod
    def resolve_category_label(root: dict[str, Any], _info: Any) -> str:
        return v.PersonnelCategory(root["category"]).label


class Victim(graphene.ObjectType):
    """A victim as counted: age group and sex only, never an identity."""

    victim_id = graphene.String(required=True)
    age_group = graphene.String(required=True)
    sex = graphene.String(required=True)
    assistance = graphene.List(graphene.NonNull(graphene.String), required=True)


class FollowUp(graphene.ObjectType):
    member_state = graphene.String(required=True)
    notified_at = graphene.Field(Instant, required=True)
    nio_requested = graphene.Boolean(required=True)
    reply = graphene.String(description="intent or declined; null while unanswered")
    replied_at = graphene.Field(Instant)
    nio_appointed_at = graphene.Field(Instant)
    follow_up_requests = graphene.List(graphene.NonNull(Instant), required=True)


class Investigation(graphene.ObjectType):
    investigation_id = graphene.String(required=True)
    entity = graphene.Field(InvestigatingEntity, required=True)
    member_state = graphene.String()
    urgent = graphene.Boolean(required=True)
    opened_at = graphene.Field(Instant, required=True)
    concluded_at = graphene.Field(Instant)
    finding = graphene.String()
    victims_interviewed = graphene.Boolean()
    days_taken = graphene.Int()

    @staticmethod
    def resolve_entity(root: dict[str, Any], _info: Any) -> v.InvestigatingEntity:
        return v.InvestigatingEntity(root["entity"])


class PaternityClaim(graphene.ObjectType):
    claim_id = graphene.String(required=True)
    perpetrator_id = graphene.String()
    member_state = graphene.String()
    filed_at = graphene.Field(Instant, required=True)
    established_at = graphene.Field(Instant)
    support_arranged_at = graphene.Field(Instant)


class VictimGroups(graphene.ObjectType):
    """The UN's victim columns."""

    women = graphene.Int(required=True)
    girls = graphene.Int(required=True)
    females_unknown_age = graphene.Int(required=True)
    men = graphene.Int(required=True)
    boys = graphene.Int(required=True)
    males_unknown_age = graphene.Int(required=True)
    sex_unknown = graphene.Int(required=True)


class TextStatus(graphene.Enum):
    """What a reader gets of a sealed narrative or note."""

    READABLE = "readable"
    WITHHELD = "withheld"
    ERASED = "erased"
    UNREADABLE = "unreadable"

    @property
    def description(self) -> str:
        return _TEXT_STATUS[self.value]


_TEXT_STATUS = {
    "readable": "the text is given",
    "withheld": "only officers read narratives and notes",
    "erased": "the case's victim data was erased: its key is destroyed for good",
    "unreadable": "the text does not open (its key is missing, or it was changed)",
}


class CaseText(graphene.ObjectType):
    """A narrative or a note: sealed in the log, opened here for officers only."""

    note_id = graphene.String(description="N1, N2, … for a note; null for the narrative")
    at = graphene.Field(Instant, required=True, description="when it was recorded as said")
    status = graphene.Field(TextStatus, required=True)
    text = graphene.String(description="the plain text, when status is READABLE")


async def _open(root: Any, info: Any, texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``texts`` of the case ``root`` as the asking principal may see them."""
    context: RequestContext = info.context
    actor = context.actor
    sealed = [t["sealed"] for t in texts if t["sealed"] is not None]
    if root.erased_at is not None:
        opened = [OpenedText("erased") for _ in sealed]
    elif actor is None or actor.role is not v.Role.OFFICER:
        opened = [OpenedText("withheld") for _ in sealed]
    elif isinstance(context.reader, TextOpener):
        opened = await context.reader.open_texts(root.case_id, sealed) if sealed else []
    else:
        opened = [OpenedText("unreadable") for _ in sealed]
    found = iter(opened)
    shown = []
    for text in texts:
        result = next(found) if text["sealed"] is not None else OpenedText("erased")
        shown.append(
            {"note_id": text.get("note_id"), "at": text["at"], "status": result.status,
             "text": result.text}
        )  # fmt: skip
    return shown


class CaseFile(graphene.ObjectType):
    case_id = graphene.ID(required=True)
    as_of = graphene.Field(Instant, required=True, description="the instant it is shown as of")
    policy = graphene.String(required=True, description="the deadline policy applied")
    recorded_from = graphene.Field(Instant, required=True, description="this version's start")
    last_sequence = graphene.Int(required=True, description="the last event of the case shown")
    status = graphene.String(required=True)
    un_status = graphene.String(required=True, description="in the UN's status vocabulary")
    allegation_type = graphene.Field(AllegationType, required=True)
    entity = graphene.Field(EntityKind, required=True)
    entity_name = graphene.String()
    mission = graphene.String()
    incident_date = graphene.Field(Day)
    incident_date_precision = graphene.String(required=True)
    received_at = graphene.Field(Instant, required=True)
    closed_at = graphene.Field(Instant)
    closure_reason = graphene.Field(ClosureReason)
    published_at = graphene.Field(Instant)
    substantiated = graphene.Boolean()
    nationalities = graphene.List(graphene.NonNull(graphene.String), required=True)
    victim_groups = graphene.Field(VictimGroups, required=True)
    perpetrators = graphene.List(graphene.NonNull(Perpetrator), required=True)
    victims = graphene.List(graphene.NonNull(Victim), required=True)
    follow_ups = graphene.List(graphene.NonNull(FollowUp), required=True)
    investigations = graphene.List(graphene.NonNull(Investigation), required=True)
    paternity_claims = graphene.List(graphene.NonNull(PaternityClaim), required=True)
    deadlines = graphene.List(graphene.NonNull(Deadline), required=True)
    narrative = graphene.Field(CaseText, description="the allegation's account, as last recorded")
    notes = graphene.List(graphene.NonNull(CaseText), required=True)
    victim_data_erased_at = graphene.Field(
        Instant, description="when the case's key was destroyed, if its victim data was erased"
    )
    erasure_reason = graphene.String()

    @staticmethod
    def resolve_recorded_from(root: Any, _info: Any) -> Any:
        return root.version_from

    @staticmethod
    async def resolve_narrative(root: Any, info: Any) -> dict[str, Any] | None:
        if root.narrative is None:
            return None
        [shown] = await _open(root, info, [root.narrative])
        return shown

    @staticmethod
    async def resolve_notes(root: Any, info: Any) -> list[dict[str, Any]]:
        return await _open(root, info, root.notes)

    @staticmethod
    def resolve_victim_data_erased_at(root: Any, _info: Any) -> Any:
        return root.erased_at

    @staticmethod
    def resolve_allegation_type(root: Any, _info: Any) -> v.AllegationType:
        return v.AllegationType(root.allegation_type)

    @staticmethod
    def resolve_entity(root: Any, _info: Any) -> v.EntityKind:
        return v.EntityKind(root.entity)

    @staticmethod
    def resolve_closure_reason(root: Any, _info: Any) -> v.ClosureReason | None:
        return v.ClosureReason(root.closure_reason) if root.closure_reason else None

    @staticmethod
    def resolve_paternity_claims(root: Any, _info: Any) -> Any:
        return root.claims


class CaseSummary(graphene.ObjectType):
    case_id = graphene.ID(required=True)
    status = graphene.String(required=True)
    un_status = graphene.String(required=True)
    allegation_type = graphene.Field(AllegationType, required=True)
    mission = graphene.String()
    received_at = graphene.Field(Instant, required=True)
    substantiated = graphene.Boolean()

    @staticmethod
    def resolve_allegation_type(root: Any, _info: Any) -> v.AllegationType:
        return v.AllegationType(root.allegation_type)


class CaseEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(CaseSummary, required=True)


class CaseConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CaseEdge), required=True, resolver=edges)
    page_info = graphene.Field(PageInfo, required=True, resolver=page_info)


class AuditActor(graphene.ObjectType):
    principal_id = graphene.String(required=True)
    role = graphene.Field(Role, required=True)
    member_state = graphene.String()


class AuditEntry(graphene.ObjectType):
    event_id = graphene.ID(required=True)
    stream_id = graphene.String(required=True)
    sequence = graphene.Int(required=True)
    type = graphene.String(required=True)
    occurred_at = graphene.Field(Instant, required=True)
    recorded_at = graphene.Field(Instant, required=True)
    actor = graphene.Field(AuditActor, required=True)
    command_id = graphene.String(required=True)
    prev_hash = graphene.String(required=True)
    hash = graphene.String(required=True)
    chain_valid = graphene.Boolean(
        required=True, description="the event hashes to itself and links to its predecessor"
    )
    chain_error = graphene.String()
    envelope = graphene.JSONString(required=True, description="the envelope as stored")

    @staticmethod
    def resolve_actor(root: Any, _info: Any) -> dict[str, Any]:
        return {
            "principal_id": root.actor_id,
            "role": v.Role(root.actor_role),
            "member_state": root.actor_member_state,
        }


class AuditEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(AuditEntry, required=True)


class AuditConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(AuditEdge), required=True, resolver=edges)
    page_info = graphene.Field(PageInfo, required=True, resolver=page_info)
