"""Merkle trees as RFC 6962 defines them (SHA-256): tree hashes, proofs, verification.

A leaf's hash is SHA-256(0x00 || data), an interior node's SHA-256(0x01 || left ||
right), and the tree over no leaves hashes to SHA-256(""). The tree over ``n`` leaves
splits at the largest power of two below ``n``, so every left subtree is complete.

Proofs are planned as *ranges* of leaves whose tree hashes make up the proof. Each
range that RFC 6962's recursion produces starts at a multiple of its largest power
of two, so its hash folds from O(log n) complete, aligned subtrees: a store that
keeps every complete subtree (``Node``) answers any proof in O(log n) reads.
Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""(level, index): the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

NodeLookup = Callable[[int, int], bytes]
"""The hash of the complete subtree at (level, index)."""


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- trees ---------------------------------------------------------------------------


class Frontier:
    """The roots of the complete subtrees that make up a tree, left to right.

    A "compact range" from leaf 0: appending a leaf costs O(1) amortised hashes and
    the root at the current size folds the O(log n) peaks.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()) -> None:
        if size < 0 or len(peaks) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} peaks, not {len(peaks)}"
            )
        self._size = size
        self._peaks = list(peaks)

    @staticmethod
    def peak_nodes(size: int) -> list[Node]:
        """The complete subtrees a tree of ``size`` leaves is made of, left to right."""
        nodes: list[Node] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                nodes.append((level, start >> level))
                start += 1 << level
        return nodes

    @property
    def size(self) -> int:
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        return tuple(self._peaks)

    def copy(self) -> "Frontier":
        return Frontier(self._size, self._peaks)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the complete subtrees it completes as (level, index, hash)."""
        index = self._size
        created = [(0, index, leaf)]
        level = 0
        peaks = self._peaks
        while index & 1:
            leaf = node_hash(peaks.pop(), leaf)
            level += 1
            index >>= 1
            created.append((level, index, leaf))
        peaks.append(leaf)
        self._size += 1
        return created

    def push(self, leaf: bytes) -> None:
        """Add a leaf hash when the completed subtrees are not needed (the fast path)."""
        index = self._size
        peaks = self._peaks
        while index & 1:
            leaf = node_hash(peaks.pop(), leaf)
            index >>= 1
        peaks.append(leaf)
        self._size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        peaks = self._peaks
        root = peaks[-1]
        for peak in reversed(peaks[:-1]):
            root = node_hash(peak, root)
        return root


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of the leaves whose hashes are given."""
    frontier = Frontier()
    for leaf in leaf_hashes:
        frontier.push(leaf)
    return frontier.root()


def tree_hash(leaves: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf data (MTH in RFC 6962)."""
    return root_of(leaf_hash(data) for data in leaves)


# --- planning proofs as ranges of leaves ---------------------------------------------


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees whose fold is the tree hash of leaves [start, end).

    ``start`` must be a multiple of the largest power of two not above the range's
    length, as every range of RFC 6962's recursion is.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    nodes: list[Node] = []
    length = end - start
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            if start % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned for level {level}")
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def range_hash(start: int, end: int, lookup: NodeLookup) -> bytes:
    """The tree hash of leaves [start, end), folded from complete subtrees."""
    nodes = range_nodes(start, end)
    digest = lookup(*nodes[-1])
    for level, index in reversed(nodes[:-1]):
        digest = node_hash(lookup(level, index), digest)
    return digest


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form the audit path of leaf ``index`` (PATH, §2.1.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # the path runs from the leaf up to the root
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes prove a tree of ``old_size`` leaves a prefix of ``new_size``.

    PROOF and SUBPROOF of RFC 6962 §2.1.2; empty when there is nothing to prove.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every complete subtree the hashes of ``ranges`` need."""
    return {node for start, end in ranges for node in range_nodes(start, end)}


# --- proofs over leaves held in memory -----------------------------------------------


def _lookup_in(leaf_hashes: Sequence[bytes]) -> NodeLookup:
    def lookup(level: int, index: int) -> bytes:
        first = index << level
        return root_of(leaf_hashes[first : first + (1 << level)])

    return lookup


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``leaf_hashes``."""
    lookup = _lookup_in(leaf_hashes)
    return [range_hash(s, e, lookup) for s, e in inclusion_ranges(index, len(leaf_hashes))]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the first ``old_size`` of ``leaf_hashes`` are a prefix of all of them."""
    lookup = _lookup_in(leaf_hashes)
    return [range_hash(s, e, lookup) for s, e in consistency_ranges(old_size, len(leaf_hashes))]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------


def _check_hashes(proof: Sequence[bytes], *named: tuple[str, bytes]) -> None:
    for position, item in enumerate(proof):
        if len(item) != HASH_SIZE:
            raise ProofError(f"proof element {position} is {len(item)} bytes, not {HASH_SIZE}")
    for name, value in named:
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from the leaf hash ``leaf`` at ``index`` of ``size``."""
    _check_hashes(proof, ("the leaf hash", leaf))
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError(f"the proof is longer than a path in a tree of {size} leaves")
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            digest = node_hash(digest, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the proof is shorter than a path in a tree of {size} leaves")
    return digest


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` puts ``leaf`` at ``index`` under ``root``.

    The tree size is not bound by the proof, only the shape of the path: it is the
    signed checkpoint that binds a size to a root.
    """
    _check_hashes((), ("the root", root))
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise ProofError(f"the audit path of leaf {index} does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows the old tree is a prefix of the new."""
    _check_hashes(proof, ("the old root", old_root), ("the new root", new_root))
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {new_size} leaves cannot extend one of {old_size}")
    if old_size in (0, new_size):
        if proof:
            raise ProofError(f"the proof from {old_size} to {new_size} leaves must be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"two different roots for the same {old_size} leaves")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofError("the old root is not the root of the empty tree")
        return
    if not proof:
        raise ProofError(f"the proof from {old_size} to {new_size} leaves is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a complete old tree is its own first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"the proof is longer than one from {old_size} to {new_size} leaves")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the proof is shorter than one from {old_size} to {new_size} leaves")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the old root of {old_size} leaves")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the new root of {new_size} leaves")
