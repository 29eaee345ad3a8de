"""Ledger: one RFC 6962 Merkle tree per partition of the events log, and its checkpoints.

Leaf ``i`` of partition ``p``'s tree is the stored bytes of the event at offset ``i``
of ``p``: leaf index and offset are one number. As leaves arrive, every complete
subtree they finish is stored as a node (partition, level, position, hash), about
two rows per event, so a root at any earlier size, an audit path or a consistency
proof costs O(log n) rows, read in one query.

Offsets are contiguous on this log. A record past the next expected offset (one that
did not decode, or a ledger added to a running system) is a gap: it is recorded in
``ledger_gaps`` and the partition's tree stops there, for a tree with a hole in it
proves nothing. A rebuild from offset 0 fills it once the record decodes.

Checkpoints are signed statements (``services/checkpoints.py``). They are not derived
from the log, so their tables live in :data:`checkpoint_metadata`, which a rebuild of
the read models never drops.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from accountability.events import merkle
from accountability.events.codec import canonical_json, format_instant, loads_object, parse_instant
from accountability.events.types import JsonObject

from .audit_log import audit_log
from .runner import Ordering, Record
from .sql import UTCDateTime, insert_ignoring_duplicates, key_in, metadata, upsert

STATEMENT_FORMAT: Final = "accountability-checkpoint/1"

ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_trees = Table(
    "ledger_trees",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

ledger_gaps = Table(
    "ledger_gaps",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("expected_offset", BigInteger, nullable=False),
    Column("found_offset", BigInteger, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)

checkpoint_metadata = MetaData()
"""Signed history: kept when the read models are dropped and rebuilt."""

ledger_checkpoints = Table(
    "ledger_checkpoints",
    checkpoint_metadata,
    Column("checkpoint_id", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("log_root", String(64), nullable=False),
    Column("statement", Text, nullable=False),
    Column("signature", String(128), nullable=False),
)

ledger_keys = Table(
    "ledger_keys",
    checkpoint_metadata,
    Column("key_id", String(16), primary_key=True),
    Column("public_key", Text, nullable=False),
    Column("first_used_at", UTCDateTime, nullable=False),
)


class LedgerError(Exception):
    """A proof or checkpoint that cannot be given; the message says why."""


class UnknownCheckpoint(LedgerError):
    pass


class UnknownEvent(LedgerError):
    pass


class NotCovered(LedgerError):
    """The event exists but the checkpoint (or the ledger) does not cover it yet."""


# --- the projection -------------------------------------------------------------------


class LedgerProjection:
    name: Final = "ledger"
    version: Final = 1
    tables: Final = (ledger_nodes, ledger_trees, ledger_gaps)
    ordering: Final = Ordering.PARTITION
    """Leaves go in offset order: a dead letter holds back the rest of its partition."""

    def apply(self, conn: Connection, records: Sequence[Record]) -> None:
        by_partition: dict[int, dict[int, bytes]] = {}
        for record in records:
            by_partition.setdefault(record.partition, {}).setdefault(record.offset, record.raw)
        rows = conn.execute(
            select(ledger_trees.c.partition, ledger_trees.c.size).where(
                ledger_trees.c.partition.in_(sorted(by_partition))
            )
        )
        sizes = {int(partition): int(size) for partition, size in rows}
        now = datetime.now(UTC)
        nodes: list[dict[str, Any]] = []
        trees: list[dict[str, Any]] = []
        gaps: list[dict[str, Any]] = []
        for partition, raws in sorted(by_partition.items()):
            frontier = load_frontier(conn, partition, sizes.get(partition, 0))
            before = frontier.size
            for offset in sorted(raws):
                if offset < frontier.size:
                    continue  # delivered again: already a leaf
                if offset > frontier.size:
                    gaps.append(
                        {
                            "partition": partition,
                            "expected_offset": frontier.size,
                            "found_offset": offset,
                            "seen_at": now,
                        }
                    )
                    break
                for level, position, digest in frontier.append(merkle.leaf_hash(raws[offset])):
                    nodes.append(
                        {"partition": partition, "level": level, "position": position,
                         "hash": digest}
                    )  # fmt: skip
            if frontier.size != before:
                trees.append(
                    {
                        "partition": partition,
                        "size": frontier.size,
                        "root": frontier.root(),
                        "updated_at": now,
                    }
                )
        insert_ignoring_duplicates(conn, ledger_nodes, nodes)
        upsert(conn, ledger_trees, trees)
        insert_ignoring_duplicates(conn, ledger_gaps, gaps)


def load_frontier(conn: Connection, partition: int, size: int) -> merkle.Frontier:
    """The partition's tree at ``size`` leaves, ready to take the next one."""
    peaks = merkle.Frontier.peak_nodes(size)
    found = _nodes(conn, partition, peaks)
    return merkle.Frontier(size, [found[node] for node in peaks])


def _nodes(
    conn: Connection, partition: int, wanted: Sequence[merkle.Node]
) -> dict[merkle.Node, bytes]:
    keys = sorted(set(wanted))
    if not keys:
        return {}
    rows = conn.execute(
        select(ledger_nodes.c.level, ledger_nodes.c.position, ledger_nodes.c.hash).where(
            ledger_nodes.c.partition == partition,
            key_in([ledger_nodes.c.level, ledger_nodes.c.position], keys),
        )
    )
    found = {(int(level), int(position)): bytes(digest) for level, position, digest in rows}
    missing = [node for node in keys if node not in found]
    if missing:
        level, position = missing[0]
        raise LedgerError(
            f"partition {partition} has no ledger node at level {level}, position {position}: "
            "the ledger is damaged; rebuild the read models"
        )
    return found


# --- reading trees ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionHead:
    """A partition's tree at one size: what a checkpoint states about it."""

    partition: int
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Gap:
    partition: int
    expected_offset: int
    found_offset: int
    seen_at: datetime


def tree_sizes(conn: Connection) -> dict[int, int]:
    rows = conn.execute(select(ledger_trees.c.partition, ledger_trees.c.size))
    return {int(p): int(size) for p, size in rows}


def current_heads(conn: Connection, partitions: int | None = None) -> list[PartitionHead]:
    """Every partition's current tree; partitions below ``partitions`` with no event are empty."""
    rows = conn.execute(select(ledger_trees.c.partition, ledger_trees.c.size, ledger_trees.c.root))
    heads = {int(p): PartitionHead(int(p), int(size), bytes(root)) for p, size, root in rows}
    count = max([partitions or 0, *(p + 1 for p in heads)])
    return [heads.get(p, PartitionHead(p, 0, merkle.EMPTY_ROOT)) for p in range(count)]


def gaps(conn: Connection) -> list[Gap]:
    rows = conn.execute(select(ledger_gaps).order_by(ledger_gaps.c.partition))
    return [
        Gap(int(r.partition), int(r.expected_offset), int(r.found_offset), r.seen_at) for r in rows
    ]


def _require_size(conn: Connection, partition: int, size: int) -> None:
    available = tree_sizes(conn).get(partition, 0)
    if not 0 <= size <= available:
        raise NotCovered(f"partition {partition}'s ledger holds {available} leaves, not {size}")


def root_at(conn: Connection, partition: int, size: int) -> bytes:
    """The root of the partition's tree when it had ``size`` leaves."""
    _require_size(conn, partition, size)
    if size == 0:
        return merkle.EMPTY_ROOT
    found = _nodes(conn, partition, merkle.range_nodes(0, size))
    return merkle.range_hash(0, size, lambda level, position: found[(level, position)])


def _range_hashes(conn: Connection, partition: int, ranges: list[tuple[int, int]]) -> list[bytes]:
    found = _nodes(conn, partition, sorted(merkle.nodes_for(ranges)))
    return [merkle.range_hash(s, e, lambda lv, pos: found[(lv, pos)]) for s, e in ranges]


def audit_path(conn: Connection, partition: int, index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the partition's tree of ``size`` leaves."""
    _require_size(conn, partition, size)
    return _range_hashes(conn, partition, merkle.inclusion_ranges(index, size))


def consistency_path(conn: Connection, partition: int, old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof between the partition's trees of ``old_size`` and ``new_size``."""
    _require_size(conn, partition, new_size)
    return _range_hashes(conn, partition, merkle.consistency_ranges(old_size, new_size))


def leaf_hashes(
    conn: Connection, batch_size: int = 20_000, partitions: Sequence[int] | None = None
) -> Iterator[tuple[int, int, bytes]]:
    """Every leaf hash (of ``partitions``, default all) as (partition, offset, hash), in
    partition then offset order, streamed ``batch_size`` rows at a time."""
    if partitions is None:
        found = select(ledger_nodes.c.partition).where(ledger_nodes.c.level == 0).distinct()
        partitions = list(conn.execute(found).scalars())
    for partition in sorted(partitions):
        leaves = (
            select(ledger_nodes.c.position, ledger_nodes.c.hash)
            .where(ledger_nodes.c.partition == partition, ledger_nodes.c.level == 0)
            .order_by(ledger_nodes.c.position)
            .execution_options(yield_per=batch_size)
        )
        with conn.execute(leaves) as rows:  # a server-side cursor: closed even if abandoned
            for position, digest in rows:
                yield partition, int(position), bytes(digest)


_SPAN: Final = 1 << 20
"""Leaves joined by the database in one answer: 32 MiB."""


def leaf_column(conn: Connection, partition: int) -> bytes:
    """A partition's leaf hashes end to end, in position order: what :func:`leaf_hashes`
    yields for it, joined. PostgreSQL joins them itself, a million per answer, rather
    than send a row for each."""
    if conn.dialect.name != "postgresql":
        return b"".join(digest for _, _, digest in leaf_hashes(conn, partitions=[partition]))
    n = ledger_nodes.c
    leaves = (n.partition == partition, n.level == 0)
    top = conn.execute(select(func.max(n.position)).where(*leaves)).scalar()
    joined = func.string_agg(
        n.hash, aggregate_order_by(literal_column("''::bytea"), n.position), type_=LargeBinary
    )
    parts: list[bytes] = []
    for start in range(0, -1 if top is None else int(top) + 1, _SPAN):
        span = (n.position >= start, n.position < start + _SPAN)
        parts.append(bytes(conn.execute(select(joined).where(*leaves, *span)).scalar() or b""))
    return b"".join(parts)


# --- checkpoints -------------------------------------------------------------------------


def log_root(heads: Sequence[PartitionHead]) -> bytes:
    """The Merkle Tree Hash over the partition roots, in partition order."""
    return merkle.tree_hash(head.root for head in heads)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of every partition's tree size and root at one instant."""

    checkpoint_id: int
    created_at: datetime
    key_id: str
    partitions: tuple[PartitionHead, ...]
    log_root: bytes
    signature: bytes

    def statement(self) -> JsonObject:
        return {
            "format": STATEMENT_FORMAT,
            "checkpoint_id": self.checkpoint_id,
            "created_at": format_instant(self.created_at),
            "key_id": self.key_id,
            "log_root": self.log_root.hex(),
            "partitions": [
                {"partition": h.partition, "size": h.size, "root": h.root.hex()}
                for h in self.partitions
            ],
        }

    def signed_bytes(self) -> bytes:
        """What the signature covers: the canonical JSON of :meth:`statement`."""
        return canonical_json(self.statement())

    def head(self, partition: int) -> PartitionHead | None:
        return next((h for h in self.partitions if h.partition == partition), None)

    @classmethod
    def from_statement(cls, statement: object, signature_hex: object) -> "Checkpoint":
        """Read a statement as written by :meth:`statement`; refuse anything else."""
        if not isinstance(statement, dict):
            raise LedgerError("a checkpoint statement must be a JSON object")
        if statement.get("format") != STATEMENT_FORMAT:
            raise LedgerError(f"unknown checkpoint format {statement.get('format')!r}")
        try:
            heads = tuple(
                PartitionHead(_int(h["partition"]), _int(h["size"]), _hex32(h["root"]))
                for h in _list(statement["partitions"])
            )
            checkpoint = cls(
                checkpoint_id=_int(statement["checkpoint_id"]),
                created_at=parse_instant(str(statement["created_at"]), "created_at"),
                key_id=str(statement["key_id"]),
                partitions=heads,
                log_root=_hex32(statement["log_root"]),
                signature=bytes.fromhex(str(signature_hex)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerError(f"malformed checkpoint statement: {exc}") from None
        if checkpoint.statement() != statement:
            raise LedgerError("the checkpoint statement has fields this format does not know")
        return checkpoint


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{value!r} is not a list")
    return value


def _hex32(value: object) -> bytes:
    if not isinstance(value, str) or len(value) != 64 or value != value.lower():
        raise ValueError(f"{value!r} is not 64 lowercase hex digits")
    return bytes.fromhex(value)


def ensure_checkpoint_tables(conn: Connection) -> None:
    checkpoint_metadata.create_all(conn)


def store_checkpoint(conn: Connection, checkpoint: Checkpoint, public_key_pem: str) -> None:
    insert_ignoring_duplicates(
        conn,
        ledger_keys,
        [{"key_id": checkpoint.key_id, "public_key": public_key_pem,
          "first_used_at": checkpoint.created_at}],
    )  # fmt: skip
    conn.execute(
        ledger_checkpoints.insert().values(
            checkpoint_id=checkpoint.checkpoint_id,
            created_at=checkpoint.created_at,
            key_id=checkpoint.key_id,
            log_root=checkpoint.log_root.hex(),
            statement=checkpoint.signed_bytes().decode("utf-8"),
            signature=checkpoint.signature.hex(),
        )
    )


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint.from_statement(loads_object(row.statement, "checkpoint"), row.signature)


def get_checkpoint(conn: Connection, checkpoint_id: int) -> Checkpoint:
    row = conn.execute(
        select(ledger_checkpoints).where(ledger_checkpoints.c.checkpoint_id == checkpoint_id)
    ).first()
    if row is None:
        raise UnknownCheckpoint(f"no checkpoint {checkpoint_id}")
    return _checkpoint(row)


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    row = conn.execute(
        select(ledger_checkpoints).order_by(ledger_checkpoints.c.checkpoint_id.desc()).limit(1)
    ).first()
    return None if row is None else _checkpoint(row)


def all_checkpoints(conn: Connection) -> list[Checkpoint]:
    rows = conn.execute(select(ledger_checkpoints).order_by(ledger_checkpoints.c.checkpoint_id))
    return [_checkpoint(row) for row in rows]


def checkpoint_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger_checkpoints)).scalar() or 0)


def public_key_of(conn: Connection, key_id: str) -> str | None:
    """The PEM of the public key that signed checkpoints under ``key_id``."""
    row = conn.execute(
        select(ledger_keys.c.public_key).where(ledger_keys.c.key_id == key_id)
    ).first()
    return None if row is None else str(row[0])


# --- proofs for an event and between checkpoints -------------------------------------


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That an event is leaf ``leaf_index`` of its partition's tree in a checkpoint.

    ``audit_path`` leads from ``leaf_hash`` to ``partition_root``; ``log_path`` leads
    from the partition root (leaf ``partition_index`` of the tree over the checkpoint's
    partition roots) to the checkpoint's log root.
    """

    event_id: str
    checkpoint: Checkpoint
    partition: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: tuple[bytes, ...]
    partition_root: bytes
    partition_index: int
    log_path: tuple[bytes, ...]


def event_position(conn: Connection, event_id: str) -> tuple[int, int] | None:
    """Where the event stands in the log (its first occurrence), from the audit log."""
    row = conn.execute(
        select(audit_log.c.partition, audit_log.c.log_offset).where(
            audit_log.c.event_id == event_id
        )
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


def prove_inclusion(conn: Connection, event_id: str, checkpoint_id: int) -> InclusionProof:
    checkpoint = get_checkpoint(conn, checkpoint_id)
    position = event_position(conn, event_id)
    if position is None:
        raise UnknownEvent(f"no event '{event_id}' in the audit log")
    partition, offset = position
    head = checkpoint.head(partition)
    if head is None or offset >= head.size:
        covered = 0 if head is None else head.size
        raise NotCovered(
            f"event {event_id} is at offset {offset} of partition {partition}; checkpoint "
            f"{checkpoint_id} covers offsets below {covered} there: ask a later checkpoint"
        )
    leaf = _nodes(conn, partition, [(0, offset)])[(0, offset)]
    roots = [merkle.leaf_hash(h.root) for h in checkpoint.partitions]
    index = checkpoint.partitions.index(head)
    return InclusionProof(
        event_id=event_id,
        checkpoint=checkpoint,
        partition=partition,
        leaf_index=offset,
        tree_size=head.size,
        leaf_hash=leaf,
        audit_path=tuple(audit_path(conn, partition, offset, head.size)),
        partition_root=head.root,
        partition_index=index,
        log_path=tuple(merkle.inclusion_proof(roots, index)),
    )


@dataclass(frozen=True, slots=True)
class PartitionConsistency:
    partition: int
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: tuple[bytes, ...]


def prove_consistency(
    conn: Connection, old_checkpoint_id: int, new_checkpoint_id: int
) -> list[PartitionConsistency]:
    """Per partition, the proof that the older checkpoint's tree is a prefix of the newer's."""
    old = get_checkpoint(conn, old_checkpoint_id)
    new = get_checkpoint(conn, new_checkpoint_id)
    if old.checkpoint_id > new.checkpoint_id:
        raise LedgerError(
            f"checkpoint {old.checkpoint_id} is later than {new.checkpoint_id}: ask from the older"
        )
    proofs = []
    for head in new.partitions:
        before = old.head(head.partition) or PartitionHead(head.partition, 0, merkle.EMPTY_ROOT)
        if before.size > head.size:
            raise LedgerError(
                f"checkpoint {new.checkpoint_id} has fewer leaves in partition {head.partition} "
                f"than checkpoint {old.checkpoint_id}: they are not consistent"
            )
        path = consistency_path(conn, head.partition, before.size, head.size)
        proofs.append(
            PartitionConsistency(
                head.partition, before.size, head.size, before.root, head.root, tuple(path)
            )
        )
    return proofs
