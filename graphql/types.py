"""GraphQL object types. Each resolves from a plain view of ``projections.queries``."""

from typing import Any

import graphene

from accountability.events import vocabulary as v
from accountability.events.codec import to_json_object
from accountability.events.envelope import Envelope
from accountability.events.policy import DeadlineStatus as DeadlineStatusValue

from .scalars import Day, Instant

AllegationType = graphene.Enum.from_enum(
    v.AllegationType, description="SE sexual exploitation, SA sexual abuse"
)
PersonnelCategory = graphene.Enum.from_enum(
    v.PersonnelCategory, description="Category of personnel, as coded in the UN's tables"
)
AgeGroup = graphene.Enum.from_enum(v.AgeGroup)
Sex = graphene.Enum.from_enum(v.Sex)
InvestigatingEntity = graphene.Enum.from_enum(v.InvestigatingEntity)
Finding = graphene.Enum.from_enum(v.Finding)
SanctionKind = graphene.Enum.from_enum(v.SanctionKind)
SanctionAuthority = graphene.Enum.from_enum(v.SanctionAuthority)
ProsecutionOutcome = graphene.Enum.from_enum(v.ProsecutionOutcome)
ClosureReason = graphene.Enum.from_enum(v.ClosureReason)
Role = graphene.Enum.from_enum(v.Role)
DeadlineStatus = graphene.Enum.from_enum(DeadlineStatusValue)


class Actor(graphene.ObjectType):
    principal_id = graphene.String(required=True)
    role = graphene.Field(Role, required=True)
    member_state = graphene.String()


class Event(graphene.ObjectType):
    """An event as recorded in the log, with its place in its stream's hash chain."""

    event_id = graphene.ID(required=True)
    type = graphene.String(required=True)
    schema_version = graphene.Int(required=True)
    stream_id = graphene.String(required=True)
    sequence = graphene.Int(required=True)
    occurred_at = graphene.Field(Instant, required=True)
    recorded_at = graphene.Field(Instant, required=True)
    actor = graphene.Field(Actor, required=True)
    command_id = graphene.String(required=True)
    correlation_id = graphene.String(required=True)
    payload = graphene.JSONString(required=True)
    prev_hash = graphene.String(required=True)
    hash = graphene.String(required=True)

    @staticmethod
    def resolve_payload(root: Envelope, _info: Any) -> dict[str, Any]:
        return to_json_object(root.payload)


class Accepted(graphene.ObjectType):
    """The command was decided and its events are in the log and the audit archive."""

    command_id = graphene.ID(required=True)
    stream_id = graphene.String(required=True)
    events = graphene.List(graphene.NonNull(Event), required=True)
    visible = graphene.Boolean(
        required=True,
        description="True when every read model already shows the events.",
    )


class Rejected(graphene.ObjectType):
    """The command broke a rule; nothing was recorded."""

    command_id = graphene.ID(required=True)
    stream_id = graphene.String(required=True)
    code = graphene.String(required=True)
    message = graphene.String(required=True)
    field = graphene.String()


class CommandOutcome(graphene.Union):
    class Meta:
        types = (Accepted, Rejected)


class Deadline(graphene.ObjectType):
    due_at = graphene.Field(Instant, required=True)
    status = graphene.Field(DeadlineStatus, required=True)
    done_at = graphene.Field(Instant)
    policy = graphene.String(required=True)


class FollowUp(graphene.ObjectType):
    member_state = graphene.String(required=True)
    notified_at = graphene.Field(Instant, required=True)
    nio_requested = graphene.Boolean(required=True)
    reply = graphene.String(description="intent or declined; null while unanswered")
    replied_at = graphene.Field(Instant)
    nio_appointed_at = graphene.Field(Instant)
    reply_deadline = graphene.Field(Deadline, required=True)


class Perpetrator(graphene.ObjectType):
    perpetrator_id = graphene.String(required=True)
    category = graphene.Field(PersonnelCategory, required=True)
    category_label = graphene.String(required=True)
    nationality = graphene.String(required=True)
    sex = graphene.Field(Sex, required=True)
    repatriated_at = graphene.Field(Instant)

    @staticmethod
    def resolve_category(root: dict[str, Any], _info: Any) -> v.PersonnelCategory:
        return v.PersonnelCategory(root["category"])

    @staticmethod
    def resolve_category_label(root: dict[str, Any], _info: Any) -> str:
        return v.PersonnelCategory(root["category"]).label

    @staticmethod
    def resolve_sex(root: dict[str, Any], _info: Any) -> v.Sex:
        return v.Sex(root["sex"])


class Victim(graphene.ObjectType):
    victim_id = graphene.String(required=True)
    age_group = graphene.Field(AgeGroup, required=True)
    sex = graphene.Field(Sex, required=True)

    @staticmethod
    def resolve_age_group(root: dict[str, Any], _info: Any) -> v.AgeGroup:
        return v.AgeGroup(root["age_group"])

    @staticmethod
    def resolve_sex(root: dict[str, Any], _info: Any) -> v.Sex:
        return v.Sex(root["sex"])


class Investigation(graphene.ObjectType):
    investigation_id = graphene.String(required=True)
    entity = graphene.Field(InvestigatingEntity, required=True)
    member_state = graphene.String()
    urgent = graphene.Boolean(required=True)
    opened_at = graphene.Field(Instant, required=True)
    concluded_at = graphene.Field(Instant)
    finding = graphene.Field(Finding)
    victims_interviewed = graphene.Boolean()
    days_taken = graphene.Int()

    @staticmethod
    def resolve_entity(root: dict[str, Any], _info: Any) -> v.InvestigatingEntity:
        return v.InvestigatingEntity(root["entity"])

    @staticmethod
    def resolve_finding(root: dict[str, Any], _info: Any) -> v.Finding | None:
        return v.Finding(root["finding"]) if root["finding"] else None


class AccountabilityAction(graphene.ObjectType):
    """A sanction or a concluded prosecution reported for an alleged perpetrator."""

    event_id = graphene.ID(required=True)
    action = graphene.String(required=True, description="sanction or prosecution")
    kind = graphene.String(
        required=True, description="the sanction's kind or the prosecution's outcome"
    )
    perpetrator_id = graphene.String(required=True)
    member_state = graphene.String(required=True)
    imposed_by = graphene.String()
    months = graphene.Int()
    occurred_at = graphene.Field(Instant, required=True)


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()

    @staticmethod
    def resolve_has_next_page(root: Any, _info: Any) -> bool:
        return bool(root.has_next)


class CaseFile(graphene.ObjectType):
    case_id = graphene.ID(required=True)
    status = graphene.String(required=True)
    allegation_type = graphene.Field(AllegationType, required=True)
    mission = graphene.String()
    incident_date = graphene.Field(Day)
    received_at = graphene.Field(Instant, required=True)
    closed_at = graphene.Field(Instant)
    closure_reason = graphene.Field(ClosureReason)
    substantiated = graphene.Boolean()
    nationalities = graphene.List(graphene.NonNull(graphene.String), required=True)
    perpetrators = graphene.List(graphene.NonNull(Perpetrator), required=True)
    victims = graphene.List(graphene.NonNull(Victim), required=True)
    follow_ups = graphene.List(graphene.NonNull(FollowUp), required=True)
    investigations = graphene.List(graphene.NonNull(Investigation), required=True)
    actions = graphene.List(graphene.NonNull(AccountabilityAction), required=True)
    last_sequence = graphene.Int(required=True)
    last_recorded_at = graphene.Field(Instant, required=True)

    @staticmethod
    def resolve_allegation_type(root: Any, _info: Any) -> v.AllegationType:
        return v.AllegationType(root.allegation_type)

    @staticmethod
    def resolve_closure_reason(root: Any, _info: Any) -> v.ClosureReason | None:
        return v.ClosureReason(root.closure_reason) if root.closure_reason else None


class CaseSummary(graphene.ObjectType):
    case_id = graphene.ID(required=True)
    status = graphene.String(required=True)
    allegation_type = graphene.Field(AllegationType, required=True)
    mission = graphene.String()
    received_at = graphene.Field(Instant, required=True)
    nationalities = graphene.List(graphene.NonNull(graphene.String), required=True)
    substantiated = graphene.Boolean()

    @staticmethod
    def resolve_allegation_type(root: Any, _info: Any) -> v.AllegationType:
        return v.AllegationType(root.allegation_type)


class CaseEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(CaseSummary, required=True)


class CaseConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CaseEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)

    @staticmethod
    def resolve_edges(root: Any, _info: Any) -> list[dict[str, Any]]:
        return [{"cursor": item.cursor, "node": item} for item in root.items]

    @staticmethod
    def resolve_page_info(root: Any, _info: Any) -> Any:
        return root


class AuditEntry(graphene.ObjectType):
    event_id = graphene.ID(required=True)
    stream_id = graphene.String(required=True)
    sequence = graphene.Int(required=True)
    type = graphene.String(required=True)
    occurred_at = graphene.Field(Instant, required=True)
    recorded_at = graphene.Field(Instant, required=True)
    actor = graphene.Field(Actor, required=True)
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
    edges = graphene.List(graphene.NonNull(AuditEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)

    @staticmethod
    def resolve_edges(root: Any, _info: Any) -> list[dict[str, Any]]:
        return [{"cursor": item.cursor, "node": item} for item in root.items]

    @staticmethod
    def resolve_page_info(root: Any, _info: Any) -> Any:
        return root


class CategoryCount(graphene.ObjectType):
    category = graphene.Field(PersonnelCategory, required=True)
    label = graphene.String(required=True)
    allegations = graphene.Int(required=True)


class Replies(graphene.ObjectType):
    on_time = graphene.Int(required=True, description="replied within the policy's deadline")
    late = graphene.Int(required=True, description="replied after the deadline")
    missing = graphene.Int(required=True, description="no reply and the deadline has passed")
    pending = graphene.Int(required=True, description="no reply yet, deadline still running")
    declined_to_investigate = graphene.Int(required=True)


class Investigations(graphene.ObjectType):
    by_state = graphene.Int(required=True, description="opened by the Member State")
    by_un = graphene.Int(required=True, description="opened by the UN (OIOS)")
    completed = graphene.Int(required=True)
    substantiated = graphene.Int(required=True)
    not_substantiated = graphene.Int(required=True)


class Prosecutions(graphene.ObjectType):
    concluded = graphene.Int(required=True)
    convicted = graphene.Int(required=True)
    acquitted = graphene.Int(required=True)
    dismissed = graphene.Int(required=True)
    sentence_months = graphene.Int(required=True, description="total months of sentences")


class CountryRecord(graphene.ObjectType):
    """A Member State's follow-up of allegations against its nationals."""

    code = graphene.String(required=True, description="ISO 3166-1 alpha-3")
    name = graphene.String(required=True)
    as_of = graphene.Field(
        Instant, required=True, description="the instant deadlines are judged at"
    )
    policy = graphene.String(required=True, description="the deadline policy applied")
    allegations = graphene.Int(required=True, description="cases involving its nationals")
    allegations_involving_uniformed = graphene.Int(required=True)
    alleged_perpetrators = graphene.Int(required=True)
    by_category = graphene.List(graphene.NonNull(CategoryCount), required=True)
    notifications = graphene.Int(required=True)
    replies = graphene.Field(Replies, required=True)
    reply_on_time_rate = graphene.Float(
        description="replies on time / (on time + late + missing); null with no deadline due"
    )
    investigator_appointed = graphene.Int(required=True)
    investigator_appointed_rate = graphene.Float(description="per notification")
    investigations = graphene.Field(Investigations, required=True)
    substantiated_with_outcome = graphene.Int(
        required=True, description="substantiated cases with a reported sanction or prosecution"
    )
    accountability_rate = graphene.Float(
        description="substantiated cases with a reported outcome / substantiated cases"
    )
    repatriations = graphene.Int(required=True)
    sanctions = graphene.Int(required=True)
    prosecutions = graphene.Field(Prosecutions, required=True)
    compact_signed_at = graphene.Field(Instant, description="Voluntary Compact signature")

    @staticmethod
    def resolve_allegations_involving_uniformed(root: Any, _info: Any) -> int:
        return int(root.allegations_uniformed)

    @staticmethod
    def resolve_alleged_perpetrators(root: Any, _info: Any) -> int:
        return int(root.perpetrators)

    @staticmethod
    def resolve_by_category(root: Any, _info: Any) -> list[dict[str, Any]]:
        return [
            {
                "category": v.PersonnelCategory(code),
                "label": v.PersonnelCategory(code).label,
                "allegations": count,
            }
            for code, count in sorted(root.categories.items())
        ]

    @staticmethod
    def resolve_replies(root: Any, _info: Any) -> dict[str, int]:
        return {
            "on_time": root.replies_on_time,
            "late": root.replies_late,
            "missing": root.replies_missing,
            "pending": root.replies_pending,
            "declined_to_investigate": root.declined_to_investigate,
        }

    @staticmethod
    def resolve_investigations(root: Any, _info: Any) -> dict[str, int]:
        return {
            "by_state": root.investigations_by_state,
            "by_un": root.investigations_by_un,
            "completed": root.investigations_completed,
            "substantiated": root.substantiated,
            "not_substantiated": root.not_substantiated,
        }

    @staticmethod
    def resolve_prosecutions(root: Any, _info: Any) -> dict[str, int]:
        return {
            "concluded": root.prosecutions_concluded,
            "convicted": root.convictions,
            "acquitted": root.acquittals,
            "dismissed": root.dismissals,
            "sentence_months": root.sentence_months,
        }


class CountryEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    rank = graphene.Int(required=True)
    node = graphene.Field(CountryRecord, required=True)


class CountryConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CountryEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)

    @staticmethod
    def resolve_edges(root: Any, _info: Any) -> list[dict[str, Any]]:
        return list(root.items)

    @staticmethod
    def resolve_page_info(root: Any, _info: Any) -> Any:
        return root
