"""GraphQL types shared by every part of the schema: enums, events, command outcomes."""

from typing import Any

import graphene

from accountability.events import vocabulary as v
from accountability.events.codec import to_json_object
from accountability.events.envelope import Envelope
from accountability.events.policy import DeadlineStatus as DeadlineStatusValue

from .scalars import Instant

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
ReopenReason = graphene.Enum.from_enum(v.ReopenReason)
EntityKind = graphene.Enum.from_enum(v.EntityKind)
DatePrecision = graphene.Enum.from_enum(v.DatePrecision)
InterimAction = graphene.Enum.from_enum(v.InterimAction)
AssistanceKind = graphene.Enum.from_enum(v.AssistanceKind)
FocalPointRole = graphene.Enum.from_enum(v.FocalPointRole)
Role = graphene.Enum.from_enum(v.Role)
DeadlineStatus = graphene.Enum.from_enum(DeadlineStatusValue)


class Actor(graphene.ObjectType):
    principal_id = graphene.String(required=True)
    role = graphene.Field(Role, required=True)
    member_state = graphene.String()


class EventSignature(graphene.ObjectType):
    """A Member State's signature over the command behind an event."""

    key_id = graphene.String(required=True)
    signature = graphene.String(required=True, description="Ed25519, standard base64")
    command_type = graphene.String(required=True, description="the signed command's type")
    command_payload = graphene.JSONString(required=True, description="the signed payload")


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
    signature = graphene.Field(EventSignature, description="null unless a Member State signed")

    @staticmethod
    def resolve_payload(root: Envelope, _info: Any) -> dict[str, Any]:
        return to_json_object(root.payload)

    @staticmethod
    def resolve_signature(root: Envelope, _info: Any) -> dict[str, Any] | None:
        signed = root.signature
        if signed is None:
            return None
        return {
            "key_id": signed.key_id,
            "signature": signed.to_json()["signature"],
            "command_type": signed.command_type,
            "command_payload": signed.command_payload,
        }


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


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()

    @staticmethod
    def resolve_has_next_page(root: Any, _info: Any) -> bool:
        return bool(root.has_next)


def edges(root: Any, _info: Any) -> list[dict[str, Any]]:
    """Connection edges from a page of items that carry their own cursor."""
    return [{"cursor": item.cursor, "node": item} for item in root.items]


def page_info(root: Any, _info: Any) -> Any:
    return root


class DeadlinePolicy(graphene.ObjectType):
    """A versioned deadline policy; every judged figure names the one it used."""

    label = graphene.String(required=True)
    reply_days = graphene.Int(required=True)
    day_count = graphene.String(required=True, description="calendar or working")
    investigation_months = graphene.Int(required=True)
    urgent_investigation_months = graphene.Int(required=True)
    stale_after_days = graphene.Int(required=True)
    source = graphene.String(required=True)
