"""Old payload versions stay readable: upcast on decode, their hash untouched."""

import json
from pathlib import Path

import jsonschema

from accountability.events.catalogue import AllegationReported
from accountability.events.codec import canonical_json
from accountability.events.envelope import StreamHead, decode_envelope, hash_body, verify_link
from accountability.events.types import JsonObject
from accountability.events.upcasters import upcast_allegation_reported_v1_to_v2
from accountability.events.vocabulary import DatePrecision, EntityKind

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


def v1_report(mission: str | None, incident_date: str | None) -> bytes:
    """An AllegationReported exactly as version 1 of this product recorded it."""
    body: JsonObject = {
        "actor": {"member_state": None, "principal_id": "officer-1", "role": "officer"},
        "command_id": "c-1",
        "correlation_id": "c-1",
        "event_id": "6f1f7a34-8e0c-5b7e-9a43-3f1f0d6c2a17",
        "occurred_at": "2023-04-01T09:00:00.000000Z",
        "payload": {
            "allegation_type": "SA",
            "case_id": "OLD-1",
            "incident_date": incident_date,
            "mission": mission,
        },
        "prev_hash": "0" * 64,
        "recorded_at": "2023-04-01T09:05:00.000000Z",
        "schema_version": 1,
        "sequence": 1,
        "stream_id": "case:OLD-1",
        "type": "AllegationReported",
    }
    body["hash"] = hash_body(body)
    return canonical_json(body)


def test_a_version_1_report_decodes_as_version_2_and_still_verifies() -> None:
    raw = v1_report("UNAMA", "2023-03-02")

    envelope = verify_link(raw, StreamHead())

    assert envelope.schema_version == 1
    assert isinstance(envelope.payload, AllegationReported)
    assert envelope.payload.entity is EntityKind.SPECIAL_POLITICAL
    assert envelope.payload.incident_date_precision is DatePrecision.DAY
    assert decode_envelope(raw) == envelope


def test_the_upcaster_reads_the_entity_from_the_mission() -> None:
    peacekeeping = upcast_allegation_reported_v1_to_v2(
        {"case_id": "X", "allegation_type": "SE", "mission": "MINUSCA", "incident_date": None}
    )

    assert peacekeeping["entity"] == "peacekeeping"
    assert peacekeeping["incident_date_precision"] == "unknown"
    assert peacekeeping["entity_name"] is None


def test_a_version_1_envelope_matches_the_published_schemas() -> None:
    envelope_schema = json.loads((SCHEMAS / "envelope.schema.json").read_text())
    v1_schema = json.loads((SCHEMAS / "AllegationReported.v1.schema.json").read_text())
    stored = json.loads(v1_report("MINUSCA", None))

    jsonschema.validate(stored, envelope_schema)
    jsonschema.validate(stored["payload"], v1_schema)
