"""Tables that are not read models and are never rebuilt.

- ``audit_archive``: the SQL copy of every envelope with its place in the log. The
  decider writes an event here before it publishes it (a write-ahead record, with no
  offset yet) and fills in the offset once the log has it. The embedded broker's log
  is restored from it at start.
- ``command_results``: the answer given to every command id, so that a retry gets
  the same answer.
- ``principals`` and ``credentials``: who may act, and their hashed bearer tokens.
- ``access_log``: who read which confidential record, and every credential change
  (docs/adr/0013-access-control.md). Only ever appended to.
- ``case_keys``: each case's key for its sealed narrative and notes, held outside the
  log so that erasing a victim's data destroys it (``services/keys.py``). A destroyed
  key keeps its row, without material, so that the case never gets another.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from accountability.projections.sql import UTCDateTime

metadata = MetaData()

audit_archive = Table(
    "audit_archive",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("stream_id", String(80), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("command_id", String(64), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("log_offset", BigInteger),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("envelope", Text, nullable=False),
    UniqueConstraint("stream_id", "sequence", name="uq_audit_archive_stream_sequence"),
    UniqueConstraint("partition", "log_offset", name="uq_audit_archive_position"),
    Index("ix_audit_archive_command", "command_id"),
)

command_results = Table(
    "command_results",
    metadata,
    Column("command_id", String(64), primary_key=True),
    Column("stream_id", String(80), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("published", Boolean, nullable=False),
    Column("result", Text, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
)

principals = Table(
    "principals",
    metadata,
    Column("principal_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("member_state", String(3)),
    Column("created_at", UTCDateTime, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    Column("credential_id", String(32), primary_key=True),
    Column("principal_id", String(64), ForeignKey("principals.principal_id"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index("ix_credentials_principal", "principal_id"),
)

access_log = Table(
    "access_log",
    metadata,
    Column("entry_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("principal_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("member_state", String(3)),
    Column("action", String(80), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("ids", Text, nullable=False),
    Column("arguments", Text, nullable=False),
    Index("ix_access_log_principal", "principal_id", "entry_id"),
    Index("ix_access_log_at", "at"),
)

case_keys = Table(
    "case_keys",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("key_id", String(16), nullable=False, unique=True),
    Column("material", LargeBinary(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("destroyed_at", UTCDateTime),
    Column("erasure_event_id", String(36)),
)
