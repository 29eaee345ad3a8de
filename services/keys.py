"""The per-case key store: the keys that seal narratives and notes, held outside the log.

Each case gets one AES-256 key the first time a text of it is sealed (``case_keys``,
in the store's tables, never rebuilt). Erasing a victim's data destroys it: its
material is overwritten with NULL and the row stays as a tombstone, so the case
never gets another key and its sealed texts, wherever they were copied (the log, the
archive, the read models, an export bundle), can never be opened again. Every event,
hash, chain, tree and checkpoint stays exactly as it was.

A key is destroyed, idempotently:

- by the API, as soon as the decider has accepted an erasure;
- before any use of the key, when the audit archive already holds the case's erasure
  (the decider archives an event before it is in the log, so a crash between the
  acceptance and the destruction cannot leave the text readable);
- by :func:`sweep` (``accountability keys sweep``), for every erasure archived;
- by :class:`KeyShredder`, a projection without tables for the worker's projector,
  which applies each ``VictimDataErased`` of the log in the projector's transaction.

Key material never appears in a log line, an error or a repr.
"""

import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, Exists, and_, exists, select, update

from accountability.events.catalogue import VictimDataErased
from accountability.events.commands import CASE_STREAM_PREFIX, case_stream
from accountability.events.privacy import (
    KEY_BYTES,
    NONCE_BYTES,
    CannotOpen,
    CaseKey,
    MalformedSealedText,
    OpenedText,
    SealedText,
    open_text,
    seal_text,
)
from accountability.projections.runner import Record
from accountability.projections.sql import insert_ignoring_duplicates

from .store import audit_archive, case_keys

log = logging.getLogger(__name__)

_ERASED_TYPE: Final = VictimDataErased.__name__


class TextErased(Exception):
    """The case's victim data was erased: its key is destroyed and no text is sealed for it."""

    def __init__(self, case_id: str, destroyed_at: datetime | None) -> None:
        when = f" on {destroyed_at.date()}" if destroyed_at else ""
        super().__init__(
            f"the victim data of case {case_id} was erased{when}: its key is destroyed and it "
            "takes no more text"
        )
        self.case_id = case_id


def _enable_secure_delete(conn: Connection) -> None:
    # SQLite then overwrites the freed bytes of the old row instead of leaving them in
    # the page. (PostgreSQL keeps dead tuples until VACUUM: see ADR 0014.)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def _erasure_in_archive(case_id: str) -> Exists:
    return exists().where(
        audit_archive.c.stream_id == case_stream(case_id), audit_archive.c.type == _ERASED_TYPE
    )


def destroy(conn: Connection, case_id: str, now: datetime, event_id: str | None = None) -> bool:
    """Destroy the case's key; True when material was destroyed now.

    Idempotent. A case without a key gets a tombstone, so that none is made later.
    """
    _enable_secure_delete(conn)
    destroyed = conn.execute(
        update(case_keys)
        .where(case_keys.c.case_id == case_id, case_keys.c.material.is_not(None))
        .values(material=None, destroyed_at=now, erasure_event_id=event_id)
    ).rowcount
    insert_ignoring_duplicates(
        conn,
        case_keys,
        [{
            "case_id": case_id, "key_id": secrets.token_hex(8), "material": None,
            "created_at": now, "destroyed_at": now, "erasure_event_id": event_id,
        }],
    )  # fmt: skip
    if destroyed:
        log.info("destroyed the text key of case %s (erasure %s)", case_id, event_id or "-")
    return bool(destroyed)


def destroy_if_erased(conn: Connection, case_id: str, now: datetime) -> bool:
    """Destroy the case's key if the archive holds its erasure; one write, done first.

    Callers run it before any other statement of their transaction: on SQLite a
    transaction that reads before it writes may not be allowed to write at all.
    """
    _enable_secure_delete(conn)
    return bool(
        conn.execute(
            update(case_keys)
            .where(
                and_(
                    case_keys.c.case_id == case_id,
                    case_keys.c.material.is_not(None),
                    _erasure_in_archive(case_id),
                )
            )
            .values(material=None, destroyed_at=now)
        ).rowcount
    )


def _row(conn: Connection, case_id: str) -> tuple[str, bytes | None, datetime | None] | None:
    row = conn.execute(
        select(case_keys.c.key_id, case_keys.c.material, case_keys.c.destroyed_at).where(
            case_keys.c.case_id == case_id
        )
    ).first()
    return None if row is None else (row.key_id, row.material, row.destroyed_at)


def key_for_sealing(conn: Connection, case_id: str, now: datetime) -> CaseKey:
    """The case's key, made now if it has none; :class:`TextErased` once it was destroyed.

    Two processes sealing a first text of one case at once get the same key: the
    insert of the loser does nothing and both read the winner's.
    """
    insert_ignoring_duplicates(
        conn,
        case_keys,
        [{
            "case_id": case_id, "key_id": secrets.token_hex(8),
            "material": secrets.token_bytes(KEY_BYTES), "created_at": now,
            "destroyed_at": None, "erasure_event_id": None,
        }],
    )  # fmt: skip
    destroy_if_erased(conn, case_id, now)
    row = _row(conn, case_id)
    if row is None:  # pragma: no cover - inserted above in this transaction
        raise LookupError(f"no key row for case {case_id}")
    key_id, material, destroyed_at = row
    if material is None:
        raise TextErased(case_id, destroyed_at)
    return CaseKey(key_id, bytes(material))


def seal(conn: Connection, case_id: str, plaintext: str, now: datetime) -> SealedText:
    """``plaintext`` sealed with the case's key and a fresh random nonce."""
    return seal_text(
        plaintext, key_for_sealing(conn, case_id, now), case_id, secrets.token_bytes(NONCE_BYTES)
    )


def open_texts(conn: Connection, case_id: str, texts: list[str], now: datetime) -> list[OpenedText]:
    """Each sealed text of the case, opened with its key if the key still exists."""
    destroy_if_erased(conn, case_id, now)
    row = _row(conn, case_id)
    if row is None:
        return [OpenedText("unreadable") for _ in texts]
    key_id, material, _ = row
    if material is None:
        return [OpenedText("erased") for _ in texts]
    key = CaseKey(key_id, bytes(material))
    opened = []
    for text in texts:
        try:
            opened.append(OpenedText("readable", open_text(text, key, case_id)))
        except (CannotOpen, MalformedSealedText) as exc:
            log.warning("a sealed text of case %s does not open: %s", case_id, exc)
            opened.append(OpenedText("unreadable"))
    return opened


def sweep(conn: Connection, now: datetime) -> list[str]:
    """Destroy every key whose case's erasure the archive holds; the cases it destroyed."""
    erased = (
        select(audit_archive.c.stream_id, audit_archive.c.event_id)
        .where(audit_archive.c.type == _ERASED_TYPE)
        .order_by(audit_archive.c.stream_id)
    )
    done = []
    for stream_id, event_id in conn.execute(erased).all():
        case_id = stream_id.removeprefix(CASE_STREAM_PREFIX)
        if destroy(conn, case_id, now, event_id):
            done.append(case_id)
    return done


class KeyShredder:
    """Carries out every ``VictimDataErased`` of the log: a projection with no tables.

    It runs in the projector's transaction, so the key is destroyed together with the
    offsets that record the erasure as applied; a redelivered erasure changes nothing.
    """

    name: Final = "key_shredder"
    version: Final = 1
    tables: Final = ()

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        for record in records:
            envelope = record.envelope
            if isinstance(envelope.payload, VictimDataErased) and envelope.stream_id.startswith(
                CASE_STREAM_PREFIX
            ):
                case_id = envelope.stream_id.removeprefix(CASE_STREAM_PREFIX)
                destroy(conn, case_id, datetime.now(UTC), envelope.event_id)
