"""RFC 6962 Merkle trees: reference vectors, and properties against a definition of our own.

The reference below is written from the RFC's text (§2.1, §2.1.1, §2.1.2) as plainly
as it reads, recursion and all, and shares no code with ``events/merkle.py``.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.domain import Log

from accountability.events import merkle
from accountability.events.codec import canonical_json
from accountability.events.envelope import hash_body, hash_without_member, stored_hash_of

# --- the RFC, read literally -----------------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = _k(n)
    return _h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def path_shape(m: int, n: int) -> list[str]:
    """Which side each sibling of PATH(m, D[n]) is on, from the leaf up."""
    if n == 1:
        return []
    k = _k(n)
    return [*path_shape(m, k), "right"] if m < k else [*path_shape(m - k, n - k), "left"]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof_trace(m: int, n: int, b: bool = True) -> list[str]:
    """The branches SUBPROOF(m, D[n], true) takes: a proof only fixes this much."""
    if m == n:
        return [] if b else ["own root"]
    k = _k(n)
    if m <= k:
        return [*proof_trace(m, k, b), "right"]
    return [*proof_trace(m - k, n - k, False), "left"]


# --- Certificate Transparency's reference vectors (RFC 6962 test data) -------------------

LEAVES = [
    bytes.fromhex(x)
    for x in (
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (3, 8, ["0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
]  # fmt: skip
LEAF_HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_reference_vectors(size: int) -> None:
    assert merkle.tree_hash(LEAVES[:size]).hex() == ROOTS[size]
    assert mth(LEAVES[:size]).hex() == ROOTS[size]  # the reference agrees with the vectors


@pytest.mark.parametrize(
    ("index", "size", "expected"), [pytest.param(*v, id=f"{v[0]}-of-{v[1]}") for v in INCLUSION]
)
def test_audit_paths_match_the_reference_vectors(
    index: int, size: int, expected: list[str]
) -> None:
    proof = merkle.inclusion_proof(LEAF_HASHES[:size], index)

    assert [p.hex() for p in proof] == expected
    merkle.verify_inclusion(LEAF_HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(
    ("old", "new", "expected"), [pytest.param(*v, id=f"{v[0]}-to-{v[1]}") for v in CONSISTENCY]
)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, expected: list[str]
) -> None:
    proof = merkle.consistency_proof(LEAF_HASHES[:new], old)

    assert [p.hex() for p in proof] == expected
    merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


@pytest.mark.parametrize(
    ("index", "size"),
    [pytest.param(0, 0, id="empty-tree"), pytest.param(1, 1, id="index-past-end"),
     pytest.param(-1, 4, id="negative-index")],
)  # fmt: skip
def test_no_audit_path_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(LEAF_HASHES[0], index, size, [], merkle.EMPTY_ROOT)
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_ranges(index, size)


def test_trivial_consistency_claims() -> None:
    empty, one = merkle.EMPTY_ROOT, bytes.fromhex(ROOTS[1])
    merkle.verify_consistency(0, 0, empty, empty, [])
    merkle.verify_consistency(0, 5, empty, bytes.fromhex(ROOTS[5]), [])
    merkle.verify_consistency(1, 1, one, one, [])
    claims: list[Callable[[], None]] = [
        lambda: merkle.verify_consistency(1, 0, one, empty, []),  # time runs backwards
        lambda: merkle.verify_consistency(1, 2, one, bytes.fromhex(ROOTS[2]), []),  # no proof
        lambda: merkle.verify_consistency(1, 1, one, empty, []),  # two roots for one tree
        lambda: merkle.verify_consistency(1, 1, one, one, [one]),  # a proof where none is due
        lambda: merkle.verify_consistency(0, 1, one, one, []),  # the empty tree has one root
        lambda: merkle.verify_consistency(1, 2, b"short", bytes.fromhex(ROOTS[2]), [one]),
    ]
    for bad in claims:
        with pytest.raises(merkle.ProofError):
            bad()


# --- properties ------------------------------------------------------------------------

# Distinct leaves: a duplicate leaf really is at two indexes, and its proofs say so.
leaf_lists = st.lists(st.binary(max_size=6), min_size=1, max_size=70, unique=True)


def _flip(value: bytes, bit: int) -> bytes:
    position = bit % (len(value) * 8)
    flipped = bytearray(value)
    flipped[position // 8] ^= 1 << (position % 8)
    return bytes(flipped)


def _fails(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except merkle.ProofError:
        return True
    return False


@given(st.lists(st.binary(max_size=6), max_size=70))
def test_the_root_is_the_merkle_tree_hash(leaves: list[bytes]) -> None:
    assert merkle.tree_hash(leaves) == mth(leaves)


@given(leaf_lists)
def test_the_frontier_has_the_right_root_and_nodes_at_every_size(leaves: list[bytes]) -> None:
    frontier = merkle.Frontier()
    for size, leaf in enumerate(leaves, 1):
        for level, index, digest in frontier.append(merkle.leaf_hash(leaf)):
            assert digest == mth(leaves[index << level : (index + 1) << level])
            assert (index + 1) << level <= size  # only complete subtrees
        assert frontier.size == size
        assert frontier.root() == mth(leaves[:size])
        resumed = merkle.Frontier(size, list(frontier.peaks))
        assert resumed.root() == frontier.root()
        assert merkle.Frontier.peak_nodes(size) == merkle.range_nodes(0, size)


@given(leaf_lists)
def test_every_complete_subtree_is_made_exactly_once(leaves: list[bytes]) -> None:
    frontier = merkle.Frontier()
    made = [node[:2] for leaf in leaves for node in frontier.append(merkle.leaf_hash(leaf))]
    n = len(leaves)
    complete = [(lv, i) for lv in range(n.bit_length()) for i in range(n >> lv)]

    assert sorted(made) == sorted(complete)


@settings(max_examples=200)
@given(leaf_lists, st.data())
def test_audit_paths_verify_and_nothing_altered_does(
    leaves: list[bytes], data: st.DataObject
) -> None:
    n = len(leaves)
    m = data.draw(st.integers(0, n - 1), label="index")
    hashes = [merkle.leaf_hash(x) for x in leaves]
    root = mth(leaves)
    proof = merkle.inclusion_proof(hashes, m)

    assert proof == path(m, leaves)
    merkle.verify_inclusion(hashes[m], m, n, proof, root)
    verify = merkle.verify_inclusion
    bit = data.draw(st.integers(0, 255), label="bit")
    assert _fails(verify, _flip(hashes[m], bit), m, n, proof, root)
    assert _fails(verify, merkle.leaf_hash(leaves[m] + b"x"), m, n, proof, root)
    assert _fails(verify, hashes[m], m, n, proof, _flip(root, bit))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="element")
        altered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        assert _fails(verify, hashes[m], m, n, altered, root)
        assert _fails(verify, hashes[m], m, n, proof[:-1], root)
    assert _fails(verify, hashes[m], m, n, [*proof, root], root)
    assert _fails(verify, hashes[m], m, n, [root, *proof], root)
    other = data.draw(st.integers(-1, n).filter(lambda i: i != m), label="other index")
    assert _fails(verify, hashes[m], other, n, proof, root)
    # A proof fixes the path's shape, not the tree's size: a size is bound to a root by
    # the signed checkpoint. Another size fails unless its path has the very same shape.
    size = data.draw(st.integers(0, 2 * n + 2).filter(lambda s: s != n), label="other size")
    if m >= size or path_shape(m, size) != path_shape(m, n):
        assert _fails(verify, hashes[m], m, size, proof, root)


@settings(max_examples=200)
@given(leaf_lists, st.data())
def test_consistency_proofs_verify_and_nothing_altered_does(
    leaves: list[bytes], data: st.DataObject
) -> None:
    n = len(leaves)
    m = data.draw(st.integers(1, n), label="old size")
    hashes = [merkle.leaf_hash(x) for x in leaves]
    old_root, new_root = mth(leaves[:m]), mth(leaves)
    proof = merkle.consistency_proof(hashes, m)

    assert proof == subproof(m, leaves, True)
    merkle.verify_consistency(m, n, old_root, new_root, proof)
    verify = merkle.verify_consistency
    bit = data.draw(st.integers(0, 255), label="bit")
    assert _fails(verify, m, n, _flip(old_root, bit), new_root, proof)
    assert _fails(verify, m, n, old_root, _flip(new_root, bit), proof)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="element")
        altered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        assert _fails(verify, m, n, old_root, new_root, altered)
        assert _fails(verify, m, n, old_root, new_root, proof[:-1])
        assert _fails(verify, m, n, old_root, new_root, [*proof, new_root])
        assert _fails(verify, m, n, old_root, new_root, [proof[0], *proof])
        extended = [*leaves, b"more"]  # the new root of a longer log does not fit this proof
        assert _fails(verify, m, n, old_root, mth(extended), proof)
    old = data.draw(st.integers(0, n + 1).filter(lambda s: s != m), label="other old size")
    if old > n or old == 0 or proof_trace(old, n) != proof_trace(m, n):
        assert _fails(verify, old, n, old_root, new_root, proof)
    new = data.draw(st.integers(0, 2 * n + 2).filter(lambda s: s != n), label="other new size")
    if new < m or proof_trace(m, new) != proof_trace(m, n):
        assert _fails(verify, m, new, old_root, new_root, proof)


@given(st.integers(1, 300), st.data())
def test_ranges_fold_from_aligned_complete_subtrees(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    for start, end in [
        *merkle.inclusion_ranges(index, size),
        *merkle.consistency_ranges(old, size),
    ]:
        nodes = merkle.range_nodes(start, end)
        assert sum(1 << level for level, _ in nodes) == end - start
        assert nodes[0][1] << nodes[0][0] == start
        assert len(nodes) <= size.bit_length()


# --- the verifier's hash check on stored bytes -----------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**18), 10**18) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["hash", "a", "prev_hash", "é", 'q"', "z"]), inner, max_size=3
        )
    ),
    max_leaves=10,
)
envelope_bodies = st.fixed_dictionaries(
    {
        "actor": st.fixed_dictionaries(
            {"principal_id": st.text(min_size=1, max_size=8), "role": st.just("officer"),
             "member_state": st.none() | st.just("GAB")}
        ),
        "command_id": st.text(max_size=8),
        "correlation_id": st.text(max_size=8),
        "event_id": st.uuids().map(str),
        "occurred_at": st.text(max_size=8),
        "payload": st.dictionaries(st.text(max_size=6), json_values, max_size=4),
        "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
        "recorded_at": st.text(max_size=8),
        "schema_version": st.integers(1, 3),
        "sequence": st.integers(1, 10**6),
        "stream_id": st.text(max_size=10),
        "type": st.text(max_size=10),
    }
)  # fmt: skip


@settings(max_examples=300)
@given(envelope_bodies)
def test_cutting_the_hash_from_the_bytes_is_hashing_the_re_encoded_body(body: Any) -> None:
    claimed = hash_body(body)
    raw = canonical_json({**body, "hash": claimed})

    assert hash_without_member(raw, claimed) == claimed
    assert stored_hash_of(raw) == (claimed, claimed)


@settings(max_examples=300)
@given(envelope_bodies, st.data())
def test_bytes_that_pass_the_cut_also_pass_the_re_encoding(body: Any, data: st.DataObject) -> None:
    claimed = hash_body(body)
    raw = bytearray(canonical_json({**body, "hash": claimed}))
    at = data.draw(st.integers(0, len(raw) - 1), label="position")
    if data.draw(st.booleans(), label="insert"):
        raw[at:at] = data.draw(st.sampled_from([b" ", b"\n", b"0", b'"', b"\\u0041"]))
    else:
        raw[at] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]), label="byte")
    changed = bytes(raw)
    try:
        parsed = json.loads(changed)
    except ValueError:
        return
    if not isinstance(parsed, dict) or not isinstance(parsed.get("hash"), str):
        return
    if hash_without_member(changed, parsed["hash"]) == parsed["hash"]:
        assert stored_hash_of(changed)[1] == parsed["hash"]


def test_sealed_events_pass_the_cut() -> None:
    log = Log()
    log.case("M-1", "GAB")
    for _, _, raw in log.records:
        claimed, recomputed = stored_hash_of(raw)
        assert hash_without_member(raw, claimed) == recomputed == claimed
