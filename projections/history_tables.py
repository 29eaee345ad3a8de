"""The tables of the case history (``case_history.py``): each stream's events, and every
case, allegation unit, Member State follow-up and commitment in a version for each
instant at which the log changed it (``versions.py``).
"""

from sqlalchemy import Boolean, Column, Date, Float, Index, Integer, String, Table, Text

from .sql import UTCDateTime, metadata
from .versions import versioned_table

stream_events = Table(
    "stream_events",
    metadata,
    Column("stream_id", String(80), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("payload_version", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

_VICTIM_COUNTS = [
    Column(f"victims_{group}", Integer, nullable=False)
    for group in ("women", "girls", "females_unknown_age", "men", "boys",
                  "males_unknown_age", "sex_unknown")
]  # fmt: skip

case_versions = versioned_table(
    "case_versions",
    metadata,
    [Column("case_id", String(64), primary_key=True)],
    Column("received_at", UTCDateTime, nullable=False),
    Column("received_year", Integer, nullable=False),
    Column("allegation_type", String(16), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("entity_name", String(200)),
    Column("mission", String(32)),
    Column("incident_date", Date),
    Column("incident_date_precision", String(16), nullable=False),
    Column("incident_year", Integer),
    Column("status", String(16), nullable=False),
    Column("un_status", String(64), nullable=False),
    Column("closed_at", UTCDateTime),
    Column("closure_reason", String(64)),
    Column("published_at", UTCDateTime),
    Column("referred", Boolean, nullable=False),
    Column("perpetrators", Integer, nullable=False),
    Column("perpetrators_men", Integer, nullable=False),
    Column("perpetrators_women", Integer, nullable=False),
    Column("perpetrators_unknown", Integer, nullable=False),
    Column("victims", Integer, nullable=False),
    *_VICTIM_COUNTS,
    Column("age_adult", Integer, nullable=False),
    Column("age_child", Integer, nullable=False),
    Column("age_unknown", Integer, nullable=False),
    Column("investigations", Integer, nullable=False),
    Column("investigation_concluded", Boolean, nullable=False),
    Column("substantiated", Boolean),
    Column("victims_not_interviewed", Boolean, nullable=False),
    Column("closed_without_investigation", Boolean, nullable=False),
    Column("paternity_claims", Integer, nullable=False),
    Column("paternity_established", Integer, nullable=False),
    Column("child_support", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    Column("last_sequence", Integer, nullable=False),
    Index("ix_case_versions_received", "received_at", "case_id"),
)

unit_versions = versioned_table(
    "unit_versions",
    metadata,
    [
        Column("case_id", String(64), primary_key=True),
        Column("category", String(16), primary_key=True),
        Column("nationality", String(3), primary_key=True),
    ],
)

_INVESTIGATION_COLUMNS = [
    column
    for prefix in ("national", "un")
    for column in (
        Column(f"{prefix}_opened_at", UTCDateTime),
        Column(f"{prefix}_urgent", Boolean),
        Column(f"{prefix}_concluded_at", UTCDateTime),
        Column(f"{prefix}_finding", String(32)),
        Column(f"{prefix}_victims_interviewed", Boolean),
    )
]

state_case_versions = versioned_table(
    "state_case_versions",
    metadata,
    [
        Column("member_state", String(3), primary_key=True),
        Column("case_id", String(64), primary_key=True),
    ],
    Column("received_at", UTCDateTime, nullable=False),
    Column("received_year", Integer, nullable=False),
    Column("categories", String(128), nullable=False),
    Column("perpetrators", Integer, nullable=False),
    Column("uniformed", Boolean, nullable=False),
    Column("notified_at", UTCDateTime),
    Column("nio_requested", Boolean),
    Column("reply", String(16)),
    Column("replied_at", UTCDateTime),
    Column("reply_days", Float),
    Column("reply_working_days", Integer),
    Column("nio_appointed_at", UTCDateTime),
    Column("follow_up_requests", Integer, nullable=False),
    *_INVESTIGATION_COLUMNS,
    Column("substantiated", Boolean, nullable=False),
    Column("interim_actions", Integer, nullable=False),
    Column("repatriations", Integer, nullable=False),
    Column("referrals", Integer, nullable=False),
    Column("sanctions", Integer, nullable=False),
    Column("prosecutions_concluded", Integer, nullable=False),
    Column("convictions", Integer, nullable=False),
    Column("acquittals", Integer, nullable=False),
    Column("dismissals", Integer, nullable=False),
    Column("sentence_months", Integer, nullable=False),
    Column("paternity_claims", Integer, nullable=False),
    Column("paternity_established", Integer, nullable=False),
    Column("case_closed_at", UTCDateTime),
    Column("last_activity_at", UTCDateTime),
    Column("last_request_at", UTCDateTime),
    Column("last_state_step_at", UTCDateTime),
    Index("ix_state_case_versions_case", "case_id"),
)

commitment_versions = versioned_table(
    "commitment_versions",
    metadata,
    [Column("member_state", String(3), primary_key=True)],
    Column("compact_signed_at", UTCDateTime),
    Column("circle_joined_at", UTCDateTime),
    Column("trust_fund_usd", Integer, nullable=False),
    Column("trust_fund_contributions", Integer, nullable=False),
    Column("paternity_focal_point_at", UTCDateTime),
    Column("sea_focal_point_at", UTCDateTime),
)
