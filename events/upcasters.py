"""Upcasters: old payload versions brought to the current one, one step at a time.

Each is pure, ``upcast_<type>_v<n>_to_v<n+1>(payload) -> payload``, and the chain
runs when an event is decoded. The stored bytes, and so the hashes, never change.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final

from .codec import Upcaster
from .missions import MISSIONS, MissionKind
from .types import CaseId, JsonObject
from .vocabulary import AllegationType, DatePrecision, EntityKind


@dataclass(frozen=True, slots=True)
class AllegationReportedV1:
    """AllegationReported as version 1 recorded it (kept for its JSON Schema)."""

    schema_version: ClassVar[int] = 1
    case_id: CaseId
    allegation_type: AllegationType
    mission: str | None
    incident_date: date | None


def upcast_allegation_reported_v1_to_v2(payload: JsonObject) -> JsonObject:
    """v2 names the entity and the precision of the incident date.

    Version 1 was recorded only for UN missions, so the mission tells the entity: a
    special political mission, else peacekeeping. A v1 incident date was a whole date.
    """
    mission = payload.get("mission")
    known = MISSIONS.get(mission) if isinstance(mission, str) else None
    entity = (
        EntityKind.SPECIAL_POLITICAL
        if known is not None and known.kind is MissionKind.SPECIAL_POLITICAL
        else EntityKind.PEACEKEEPING
    )
    has_date = payload.get("incident_date") is not None
    return {
        **payload,
        "entity": entity.value,
        "entity_name": None,
        "incident_date_precision": (DatePrecision.DAY if has_date else DatePrecision.UNKNOWN).value,
    }


UPCASTERS: Final[Mapping[tuple[str, int], Upcaster]] = {
    ("AllegationReported", 1): upcast_allegation_reported_v1_to_v2,
}

LEGACY_PAYLOADS: Final[Mapping[tuple[str, int], type]] = {
    ("AllegationReported", 1): AllegationReportedV1,
}
"""The shape of every earlier payload version still in the log, by (type, version)."""
