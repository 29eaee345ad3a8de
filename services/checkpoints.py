"""Signed checkpoints of the ledger: Ed25519 over a canonical statement of its trees.

The private key is a PEM file (PKCS #8, unencrypted, mode 0600). When it does not
exist it is created, exclusively, so two processes starting together cannot each
make their own. The key id is the first 16 hex digits of SHA-256 over the raw
32-byte public key.

A checkpoint is refused rather than signed when the ledger no longer extends the
latest checkpoint: a tree that shrank or whose old prefix hashes differently means
the log or the ledger changed under it, and signing would bless that.
"""

import hashlib
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, text

from accountability.projections import ledger
from accountability.projections.ledger import Checkpoint

from .settings import Settings

_ADVISORY_LOCK = 7_414_220_010
"""PostgreSQL advisory lock key: one checkpoint is published at a time."""


class CheckpointError(Exception):
    """A key that cannot be used or a checkpoint that must not be signed."""


def default_key_path(settings: Settings) -> Path:
    """The signing key's file (``ACCOUNTABILITY_CHECKPOINT_KEY_FILE``; by default
    ``<data dir>/keys/checkpoint-ed25519.pem``)."""
    return settings.checkpoint_key_path


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in ``path``; a new one, written with mode 0600, when there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _create_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def _create_key(path: Path) -> Ed25519PrivateKey:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_key(path)  # another process made it first: use theirs
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_pem(key_path: Path) -> str:
    """The PEM of the public half of the signing key (created if missing)."""
    return public_pem(load_or_create_key(key_path).public_key())


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"the public key is a {type(key).__name__}, not Ed25519")
    return key


def signature_problem(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """Why the checkpoint's signature does not verify with ``public_key``; None when it does."""
    expected = key_id(public_key)
    if checkpoint.key_id != expected:
        return f"it names key {checkpoint.key_id}, but the public key is {expected}"
    try:
        public_key.verify(checkpoint.signature, checkpoint.signed_bytes())
    except InvalidSignature:
        return f"its signature does not verify with key {expected}"
    return None


def verify_signature(checkpoint: Checkpoint, public_key: Ed25519PublicKey | str | bytes) -> bool:
    key = public_key if isinstance(public_key, Ed25519PublicKey) else load_public_key(public_key)
    return signature_problem(checkpoint, key) is None


def publish_checkpoint(
    engine: Engine,
    key_path: Path,
    now: datetime,
    *,
    partitions: int | None = None,
    skip_unchanged: bool = False,
) -> Checkpoint:
    """Sign and store the ledger's current trees as the next checkpoint.

    ``partitions``: the events topic's partition count, so that an empty partition is
    stated (size 0) rather than left out. With ``skip_unchanged`` (the periodic timer)
    nothing is signed when no tree grew since the latest checkpoint, which is returned.
    """
    key = load_or_create_key(key_path)
    public_key = key.public_key()
    with engine.begin() as conn:
        ledger.ensure_checkpoint_tables(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        heads = ledger.current_heads(conn, partitions)
        latest = ledger.latest_checkpoint(conn)
        if latest is not None:
            _ensure_extends(conn, latest, heads)
            if skip_unchanged and _same_trees(latest, heads):
                return latest
        unsigned = Checkpoint(
            checkpoint_id=latest.checkpoint_id + 1 if latest else 1,
            # A clock that stepped back must not make checkpoints go back in time.
            created_at=max(now, latest.created_at) if latest else now,
            key_id=key_id(public_key),
            partitions=tuple(heads),
            log_root=ledger.log_root(heads),
            signature=b"",
        )
        checkpoint = replace(unsigned, signature=key.sign(unsigned.signed_bytes()))
        ledger.store_checkpoint(conn, checkpoint, public_pem(public_key))
        return checkpoint


def _same_trees(checkpoint: Checkpoint, heads: list[ledger.PartitionHead]) -> bool:
    return list(checkpoint.partitions) == heads


def _ensure_extends(
    conn: Connection, latest: Checkpoint, heads: list[ledger.PartitionHead]
) -> None:
    current = {h.partition: h for h in heads}
    for old in latest.partitions:
        head = current.get(old.partition)
        size = head.size if head else 0
        if size < old.size:
            raise CheckpointError(
                f"partition {old.partition}'s ledger holds {size} leaves but checkpoint "
                f"{latest.checkpoint_id} already stated {old.size}: the ledger is behind "
                "(being rebuilt?); try again once it has caught up"
            )
        if old.size and ledger.root_at(conn, old.partition, old.size) != old.root:
            raise CheckpointError(
                f"partition {old.partition}'s first {old.size} leaves no longer hash to the root "
                f"of checkpoint {latest.checkpoint_id}: the log or the ledger was changed; "
                "run `accountability verify --live` and do not sign over it"
            )
