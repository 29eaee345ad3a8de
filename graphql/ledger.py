"""The ledger over GraphQL: signed checkpoints, their key, and proofs against them.

Checkpoints and the public key are public: anyone may hold us to what we signed.
Proofs need a credential; a Member State gets proofs only for events of the streams
it may read (its own commitments, cases involving its nationals): ``access.py``
checks both before these resolvers run. Hashes travel as
lowercase hex. To check an inclusion proof: SHA-256(0x00 || event bytes) is the leaf
hash; the audit path leads from it (leaf ``leafIndex`` of ``treeSize``) to the
partition root; SHA-256(0x00 || partition root) is leaf ``partitionIndex`` of the
tree over the checkpoint's ``partitionCount`` partition roots, and the log path leads
from it to the log root, which the checkpoint's signature covers (RFC 9162 §2.1.3.2).
"""

from typing import Any

import graphene
from sqlalchemy import Connection, select

from accountability.projections import ledger
from accountability.projections.audit_log import audit_log

from .context import Reader, RequestContext
from .errors import BadInput, NotFound
from .scalars import Instant


def _reader(info: Any) -> Reader:
    context = info.context
    if not isinstance(context, RequestContext):  # pragma: no cover - wiring error
        raise TypeError("the GraphQL context must be a RequestContext")
    return context.reader


def _hex(values: tuple[bytes, ...] | list[bytes]) -> list[str]:
    return [value.hex() for value in values]


class PartitionTreeHead(graphene.ObjectType):
    """One partition's tree as a checkpoint states it."""

    partition = graphene.Int(required=True)
    size = graphene.Int(required=True, description="events (leaves) in the tree")
    root = graphene.String(required=True, description="Merkle tree hash, hex")

    @staticmethod
    def resolve_root(root: ledger.PartitionHead, _info: Any) -> str:
        return root.root.hex()


class Checkpoint(graphene.ObjectType):
    """A signed statement of every partition's tree: Ed25519 over ``statement``."""

    id = graphene.Int(required=True)
    created_at = graphene.Field(Instant, required=True)
    key_id = graphene.String(required=True, description="first 16 hex of SHA-256(public key)")
    log_root = graphene.String(required=True, description="tree hash of the partition roots")
    partitions = graphene.List(graphene.NonNull(PartitionTreeHead), required=True)
    statement = graphene.String(required=True, description="the exact bytes signed (JSON)")
    signature = graphene.String(required=True, description="Ed25519 signature, hex")

    @staticmethod
    def resolve_id(root: ledger.Checkpoint, _info: Any) -> int:
        return root.checkpoint_id

    @staticmethod
    def resolve_log_root(root: ledger.Checkpoint, _info: Any) -> str:
        return root.log_root.hex()

    @staticmethod
    def resolve_statement(root: ledger.Checkpoint, _info: Any) -> str:
        return root.signed_bytes().decode("utf-8")

    @staticmethod
    def resolve_signature(root: ledger.Checkpoint, _info: Any) -> str:
        return root.signature.hex()


class InclusionProof(graphene.ObjectType):
    """That an event is in the log as a checkpoint signed it."""

    event_id = graphene.ID(required=True)
    checkpoint = graphene.Field(Checkpoint, required=True)
    partition = graphene.Int(required=True)
    leaf_index = graphene.Int(required=True, description="the event's offset in its partition")
    tree_size = graphene.Int(required=True)
    leaf_hash = graphene.String(required=True)
    audit_path = graphene.List(graphene.NonNull(graphene.String), required=True)
    partition_root = graphene.String(required=True)
    partition_index = graphene.Int(required=True)
    partition_count = graphene.Int(required=True)
    log_path = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="from the partition root to the log root",
    )
    log_root = graphene.String(required=True)

    @staticmethod
    def resolve_leaf_hash(root: ledger.InclusionProof, _info: Any) -> str:
        return root.leaf_hash.hex()

    @staticmethod
    def resolve_audit_path(root: ledger.InclusionProof, _info: Any) -> list[str]:
        return _hex(root.audit_path)

    @staticmethod
    def resolve_partition_root(root: ledger.InclusionProof, _info: Any) -> str:
        return root.partition_root.hex()

    @staticmethod
    def resolve_partition_count(root: ledger.InclusionProof, _info: Any) -> int:
        return len(root.checkpoint.partitions)

    @staticmethod
    def resolve_log_path(root: ledger.InclusionProof, _info: Any) -> list[str]:
        return _hex(root.log_path)

    @staticmethod
    def resolve_log_root(root: ledger.InclusionProof, _info: Any) -> str:
        return root.checkpoint.log_root.hex()


class PartitionConsistencyProof(graphene.ObjectType):
    """That a partition's older tree is a prefix of its newer one (RFC 9162 §2.1.4.2)."""

    partition = graphene.Int(required=True)
    from_size = graphene.Int(required=True)
    to_size = graphene.Int(required=True)
    from_root = graphene.String(required=True)
    to_root = graphene.String(required=True)
    path = graphene.List(graphene.NonNull(graphene.String), required=True)

    @staticmethod
    def resolve_from_size(root: ledger.PartitionConsistency, _info: Any) -> int:
        return root.old_size

    @staticmethod
    def resolve_to_size(root: ledger.PartitionConsistency, _info: Any) -> int:
        return root.new_size

    @staticmethod
    def resolve_from_root(root: ledger.PartitionConsistency, _info: Any) -> str:
        return root.old_root.hex()

    @staticmethod
    def resolve_to_root(root: ledger.PartitionConsistency, _info: Any) -> str:
        return root.new_root.hex()

    @staticmethod
    def resolve_path(root: ledger.PartitionConsistency, _info: Any) -> list[str]:
        return _hex(root.path)


class ConsistencyProof(graphene.ObjectType):
    from_checkpoint = graphene.Field(Checkpoint, required=True)
    to_checkpoint = graphene.Field(Checkpoint, required=True)
    partitions = graphene.List(graphene.NonNull(PartitionConsistencyProof), required=True)


def _checkpoint_or_latest(
    conn: Connection, checkpoint_id: int | None, field: str
) -> ledger.Checkpoint:
    if checkpoint_id is not None:
        try:
            return ledger.get_checkpoint(conn, checkpoint_id)
        except ledger.UnknownCheckpoint:
            raise NotFound(
                f"no checkpoint {checkpoint_id}", field=field, code="CHECKPOINT_NOT_FOUND"
            ) from None
    latest = ledger.latest_checkpoint(conn)
    if latest is None:
        raise NotFound("no checkpoint has been published yet", field=field, code="NO_CHECKPOINT")
    return latest


def _stream_of(conn: Connection, event_id: str) -> str | None:
    row = conn.execute(
        select(audit_log.c.stream_id).where(audit_log.c.event_id == event_id)
    ).first()
    return None if row is None else str(row[0])


def _inclusion(conn: Connection, event_id: str, checkpoint_id: int | None) -> ledger.InclusionProof:
    # Whose events a caller may prove is checked before this runs (access.own_event).
    if _stream_of(conn, event_id) is None:
        raise NotFound(f"no event '{event_id}'", field="eventId", code="EVENT_NOT_FOUND")
    checkpoint = _checkpoint_or_latest(conn, checkpoint_id, "checkpointId")
    try:
        return ledger.prove_inclusion(conn, event_id, checkpoint.checkpoint_id)
    except ledger.NotCovered as exc:
        raise BadInput(str(exc), field="checkpointId", code="NOT_COVERED") from None


def _consistency(conn: Connection, old_id: int, new_id: int | None) -> dict[str, Any]:
    old = _checkpoint_or_latest(conn, old_id, "fromCheckpointId")
    new = _checkpoint_or_latest(conn, new_id, "toCheckpointId")
    if old.checkpoint_id > new.checkpoint_id:
        raise BadInput(
            f"checkpoint {old.checkpoint_id} is later than checkpoint {new.checkpoint_id}",
            field="fromCheckpointId",
        )
    try:
        proofs = ledger.prove_consistency(conn, old.checkpoint_id, new.checkpoint_id)
    except ledger.LedgerError as exc:
        raise BadInput(str(exc), field="toCheckpointId") from None
    return {"from_checkpoint": old, "to_checkpoint": new, "partitions": proofs}


class LedgerQuery(graphene.ObjectType):
    latest_checkpoint = graphene.Field(
        Checkpoint, description="The latest signed checkpoint (public); null before the first."
    )
    checkpoint = graphene.Field(
        Checkpoint, id=graphene.Int(required=True), description="A signed checkpoint (public)."
    )
    checkpoint_public_key = graphene.Field(
        graphene.String,
        key_id=graphene.String(description="default: the key of the latest checkpoint"),
        description="The Ed25519 public key (PEM) checkpoints are signed with (public).",
    )
    inclusion_proof = graphene.Field(
        InclusionProof,
        required=True,
        event_id=graphene.ID(required=True),
        checkpoint_id=graphene.Int(description="default: the latest checkpoint"),
        description="That an event is in the log a checkpoint signed (needs a credential).",
    )
    consistency_proof = graphene.Field(
        ConsistencyProof,
        required=True,
        from_checkpoint_id=graphene.Int(required=True),
        to_checkpoint_id=graphene.Int(description="default: the latest checkpoint"),
        description="That a later checkpoint extends an earlier one (needs a credential).",
    )

    @staticmethod
    async def resolve_latest_checkpoint(root: None, info: Any) -> ledger.Checkpoint | None:
        return await _reader(info).read(ledger.latest_checkpoint)

    @staticmethod
    async def resolve_checkpoint(root: None, info: Any, id: int) -> ledger.Checkpoint:
        return await _reader(info).read(lambda conn: _checkpoint_or_latest(conn, id, "id"))

    @staticmethod
    async def resolve_checkpoint_public_key(
        root: None, info: Any, key_id: str | None = None
    ) -> str | None:
        def read(conn: Connection) -> str | None:
            wanted = key_id
            if wanted is None:
                latest = ledger.latest_checkpoint(conn)
                if latest is None:
                    return None
                wanted = latest.key_id
            pem = ledger.public_key_of(conn, wanted)
            if pem is None and key_id is not None:
                raise NotFound(f"no checkpoint key '{key_id}'", field="keyId", code="KEY_NOT_FOUND")
            return pem

        return await _reader(info).read(read)

    @staticmethod
    async def resolve_inclusion_proof(
        root: None, info: Any, event_id: str, checkpoint_id: int | None = None
    ) -> ledger.InclusionProof:
        return await _reader(info).read(lambda conn: _inclusion(conn, event_id, checkpoint_id))

    @staticmethod
    async def resolve_consistency_proof(
        root: None, info: Any, from_checkpoint_id: int, to_checkpoint_id: int | None = None
    ) -> dict[str, Any]:
        return await _reader(info).read(
            lambda conn: _consistency(conn, from_checkpoint_id, to_checkpoint_id)
        )
