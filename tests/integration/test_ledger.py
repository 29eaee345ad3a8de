"""The ledger against SQLite and PostgreSQL: trees, proofs, checkpoints, bundles, verify.

Proofs are checked here by a verifier of the test's own, written from RFC 6962's
recursive definitions, not by ``events/merkle.py``.
"""

import asyncio
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import graphene
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import Connection, Engine, select
from support.domain import Log
from support.read_models import apply

from accountability.events.codec import canonical_json
from accountability.events.commands import Actor
from accountability.events.envelope import GENESIS_HASH, hash_body
from accountability.events.policy import DEFAULT_POLICY
from accountability.events.vocabulary import Role
from accountability.graphql.access import MIDDLEWARE
from accountability.graphql.context import RequestContext, current_actor
from accountability.graphql.ledger import LedgerQuery
from accountability.projections import ledger
from accountability.projections.ledger import (
    LedgerProjection,
    ledger_checkpoints,
    ledger_gaps,
    ledger_keys,
    ledger_nodes,
    ledger_trees,
)
from accountability.projections.runner import RawRecord, decode_records
from accountability.services import db
from accountability.services.broker import EmbeddedBroker
from accountability.services.bundle import MEMBERS, export_bundle
from accountability.services.checkpoints import (
    CheckpointError,
    load_or_create_key,
    publish_checkpoint,
    verify_signature,
)
from accountability.services.kafka import ensure_topics
from accountability.services.ledger_cli import cmd_checkpoint, cmd_export, cmd_verify
from accountability.services.settings import Settings
from accountability.services.topics import EVENTS
from accountability.services.verify import Problem, VerifyReport, verify_bundle
from accountability.services.verify_live import verify_live

T = TypeVar("T")
PARTITIONS = 4
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# --- an independent verifier (RFC 6962 §2.1, read literally) ------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def leaf_of(data: bytes) -> bytes:
    return _h(b"\x00" + data)


def root_from_path(leaf: bytes, m: int, n: int, path: list[bytes]) -> bytes:
    """Rebuild MTH(D[n]) from leaf m and PATH(m, D[n]) (whose last element is the top's)."""
    if n == 1:
        assert not path, "a one-leaf tree has an empty path"
        return leaf
    *rest, sibling = path
    k = _k(n)
    if m < k:
        return _h(b"\x01" + root_from_path(leaf, m, k, rest) + sibling)
    return _h(b"\x01" + sibling + root_from_path(leaf, m - k, n - k, rest))


def roots_from_consistency(
    m: int, n: int, proof: list[bytes], old_root: bytes, complete: bool = True
) -> tuple[bytes, bytes]:
    """Rebuild (MTH(D[m]), MTH(D[n])) from SUBPROOF(m, D[n], complete)."""
    if m == n:
        if complete:
            assert not proof
            return old_root, old_root
        assert len(proof) == 1
        return proof[0], proof[0]
    *rest, last = proof
    k = _k(n)
    if m <= k:
        old, new = roots_from_consistency(m, k, rest, old_root, complete)
        return old, _h(b"\x01" + new + last)
    old, new = roots_from_consistency(m - k, n - k, rest, old_root, False)
    return _h(b"\x01" + last + old), _h(b"\x01" + last + new)


def check_signature(checkpoint: ledger.Checkpoint, pem: str) -> None:
    statement = json.loads(checkpoint.signed_bytes())
    assert checkpoint.signed_bytes() == json.dumps(
        statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    key = load_pem_public_key(pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    key.verify(checkpoint.signature, checkpoint.signed_bytes())


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def ledger_engine(engine: Engine) -> Engine:
    """The engine with the checkpoint tables, empty (they outlive read-model resets)."""
    with engine.begin() as conn:
        ledger.ensure_checkpoint_tables(conn)
        conn.execute(ledger_checkpoints.delete())
        conn.execute(ledger_keys.delete())
    return engine


@pytest.fixture
def log() -> Log:
    log = Log(partitions=PARTITIONS)
    # Case numbers chosen so that every partition has events (L-12 is partition 1's).
    for number, country in zip(
        [12, 0, 1, 2, 3, 5, 8], ["GAB", "RWA", "NPL", "PAK", "GAB", "BGD", "URY"], strict=True
    ):
        log.case(f"L-{number}", country, reply_after=None if number == 3 else timedelta(days=2))
    return log


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "keys" / "checkpoint-ed25519.pem"


def _stored(conn: Connection, event_id: str) -> bytes:
    from accountability.projections.audit_log import audit_log

    row = conn.execute(select(audit_log.c.envelope).where(audit_log.c.event_id == event_id)).one()
    return str(row[0]).encode("utf-8")


def _ledger_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            "nodes": sorted(tuple(r) for r in conn.execute(select(ledger_nodes))),
            "trees": sorted(
                tuple(r)
                for r in conn.execute(
                    select(ledger_trees.c.partition, ledger_trees.c.size, ledger_trees.c.root)
                )
            ),
            "gaps": sorted(
                tuple(r)
                for r in conn.execute(
                    select(ledger_gaps.c.partition, ledger_gaps.c.expected_offset,
                           ledger_gaps.c.found_offset)
                )
            ),
        }  # fmt: skip


def _two_checkpoints(
    engine: Engine, log: Log, key_path: Path, tail: int = 0
) -> tuple[ledger.Checkpoint, ledger.Checkpoint]:
    """Checkpoint 1 over about half the log, checkpoint 2 over all but the last ``tail``."""
    records = log.records
    half = len(records) // 2
    apply(engine, records[:half], batch=17)
    first = publish_checkpoint(engine, key_path, NOW, partitions=PARTITIONS)
    apply(engine, records[half : len(records) - tail], batch=23)
    second = publish_checkpoint(engine, key_path, NOW + timedelta(hours=1), partitions=PARTITIONS)
    if tail:
        apply(engine, records[len(records) - tail :])
    return first, second


# --- trees and proofs -----------------------------------------------------------------------


def test_trees_hold_every_event_as_the_leaf_at_its_offset(ledger_engine: Engine, log: Log) -> None:
    apply(ledger_engine, log.records, batch=13)

    with ledger_engine.connect() as conn:
        heads = ledger.current_heads(conn, PARTITIONS)
        for partition, offset, _ in log.records[::7]:
            assert ledger.audit_path(conn, partition, offset, heads[partition].size) is not None
        assert not ledger.gaps(conn)
    by_partition: dict[int, list[bytes]] = {}
    for partition, _, raw in sorted(log.records):
        by_partition.setdefault(partition, []).append(raw)
    for head in heads:
        leaves = by_partition.get(head.partition, [])
        assert head.size == len(leaves)
        expected = (
            root_from_path(leaf_of(leaves[0]), 0, len(leaves), _reference_path(leaves, 0))
            if leaves
            else _h(b"")
        )
        assert head.root == expected


def _reference_path(leaves: list[bytes], m: int) -> list[bytes]:
    def mth(d: list[bytes]) -> bytes:
        if len(d) == 1:
            return leaf_of(d[0])
        k = _k(len(d))
        return _h(b"\x01" + mth(d[:k]) + mth(d[k:]))

    def path(m: int, d: list[bytes]) -> list[bytes]:
        if len(d) == 1:
            return []
        k = _k(len(d))
        return [*path(m, d[:k]), mth(d[k:])] if m < k else [*path(m - k, d[k:]), mth(d[:k])]

    return path(m, leaves)


def test_inclusion_proofs_verify_against_every_checkpoint_that_covers_the_event(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    first, second = _two_checkpoints(ledger_engine, log, key_path)
    proven = 0

    with ledger_engine.connect() as conn:
        pem = ledger.public_key_of(conn, second.key_id)
        assert pem is not None
        for checkpoint in (first, second):
            check_signature(checkpoint, pem)
            for envelope in log.envelopes[::3]:
                try:
                    proof = ledger.prove_inclusion(
                        conn, envelope.event_id, checkpoint.checkpoint_id
                    )
                except ledger.NotCovered:
                    assert checkpoint is first  # the second covers everything
                    continue
                raw = _stored(conn, envelope.event_id)
                assert proof.leaf_hash == leaf_of(raw)
                partition_root = root_from_path(
                    proof.leaf_hash, proof.leaf_index, proof.tree_size, list(proof.audit_path)
                )
                assert partition_root == proof.partition_root
                assert partition_root == checkpoint.partitions[proof.partition].root
                log_root = root_from_path(
                    leaf_of(partition_root), proof.partition, PARTITIONS, list(proof.log_path)
                )
                assert log_root == checkpoint.log_root
                proven += 1
    assert proven > len(log.envelopes) // 3


def test_consistency_proofs_verify_between_checkpoints(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    first, second = _two_checkpoints(ledger_engine, log, key_path)

    with ledger_engine.connect() as conn:
        proofs = ledger.prove_consistency(conn, first.checkpoint_id, second.checkpoint_id)

    assert [p.partition for p in proofs] == list(range(PARTITIONS))
    for proof in proofs:
        assert (proof.old_root, proof.new_root) == (
            first.partitions[proof.partition].root,
            second.partitions[proof.partition].root,
        )
        if proof.old_size in (0, proof.new_size):
            assert proof.path == ()
            continue
        rebuilt = roots_from_consistency(
            proof.old_size, proof.new_size, list(proof.path), proof.old_root
        )
        assert rebuilt == (proof.old_root, proof.new_root)


def test_unknown_or_uncovered_events_and_checkpoints_are_named(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    first, _ = _two_checkpoints(ledger_engine, log, key_path)
    last = log.envelopes[-1]

    with ledger_engine.connect() as conn:
        with pytest.raises(ledger.UnknownEvent, match="no event 'nope'"):
            ledger.prove_inclusion(conn, "nope", first.checkpoint_id)
        with pytest.raises(ledger.UnknownCheckpoint, match="no checkpoint 99"):
            ledger.prove_inclusion(conn, last.event_id, 99)
        with pytest.raises(ledger.NotCovered, match=f"checkpoint {first.checkpoint_id} covers"):
            ledger.prove_inclusion(conn, last.event_id, first.checkpoint_id)
        with pytest.raises(ledger.LedgerError, match="later than"):
            ledger.prove_consistency(conn, 2, 1)


def test_redelivered_records_change_nothing(ledger_engine: Engine, log: Log) -> None:
    apply(ledger_engine, log.records, batch=1000)
    once = _ledger_rows(ledger_engine)

    records, _ = decode_records(log.records)
    with ledger_engine.begin() as conn:  # past the runner, straight into the projection
        LedgerProjection().apply(conn, records[::-1])
        LedgerProjection().apply(conn, records[5:40])
    apply(ledger_engine, log.records, batch=7)

    assert _ledger_rows(ledger_engine) == once


def test_batch_boundaries_do_not_matter(engine: Engine, log: Log) -> None:
    apply(engine, log.records, batch=1)
    one_by_one = _ledger_rows(engine)
    with engine.begin() as conn:
        for table in (ledger_nodes, ledger_trees, ledger_gaps):
            conn.execute(table.delete())
    records, _ = decode_records(log.records)
    with engine.begin() as conn:
        LedgerProjection().apply(conn, records)

    assert _ledger_rows(engine) == one_by_one


def test_a_gap_in_the_offsets_is_recorded_and_stops_that_tree(engine: Engine, log: Log) -> None:
    skipped = next(r for r in log.records if r[0] == 0 and r[1] == 3)
    records, _ = decode_records([r for r in log.records if r is not skipped])
    with engine.begin() as conn:
        LedgerProjection().apply(conn, records)

    with engine.connect() as conn:
        gaps = ledger.gaps(conn)
        sizes = ledger.tree_sizes(conn)
    assert [(g.partition, g.expected_offset, g.found_offset) for g in gaps] == [(0, 3, 4)]
    assert sizes[0] == 3
    assert sizes[2] == sum(1 for r in log.records if r[0] == 2)


# --- checkpoints ----------------------------------------------------------------------------------


def test_a_checkpoint_is_signed_and_a_tampered_one_does_not_verify(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    apply(ledger_engine, log.records)

    checkpoint = publish_checkpoint(ledger_engine, key_path, NOW, partitions=PARTITIONS)

    assert key_path.stat().st_mode & 0o777 == 0o600
    assert key_path.parent.stat().st_mode & 0o077 == 0
    public = load_or_create_key(key_path).public_key()
    assert verify_signature(checkpoint, public)
    assert checkpoint.key_id == hashlib.sha256(public.public_bytes_raw()).hexdigest()[:16]
    with ledger_engine.connect() as conn:
        assert ledger.latest_checkpoint(conn) == checkpoint
        assert ledger.get_checkpoint(conn, 1) == checkpoint
    heads = list(checkpoint.partitions)
    heads[2] = replace(heads[2], root=_h(b"another root"))
    other = Ed25519PrivateKey.generate()
    for tampered in (
        replace(checkpoint, partitions=tuple(heads)),
        replace(checkpoint, log_root=_h(b"x")),
        replace(checkpoint, created_at=checkpoint.created_at + timedelta(seconds=1)),
        replace(checkpoint, signature=bytes(64)),
        replace(checkpoint, signature=other.sign(checkpoint.signed_bytes())),
    ):
        assert not verify_signature(tampered, public)
    assert not verify_signature(checkpoint, other.public_key())


def test_checkpoints_are_numbered_and_unchanged_trees_are_not_signed_again(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    apply(ledger_engine, log.records[:10])
    first = publish_checkpoint(ledger_engine, key_path, NOW, partitions=PARTITIONS)
    same = publish_checkpoint(
        ledger_engine, key_path, NOW, partitions=PARTITIONS, skip_unchanged=True
    )
    apply(ledger_engine, log.records[10:])
    earlier = NOW - timedelta(days=1)  # a clock that stepped back
    second = publish_checkpoint(ledger_engine, key_path, earlier, partitions=PARTITIONS)

    assert (first.checkpoint_id, same.checkpoint_id, second.checkpoint_id) == (1, 1, 2)
    assert second.created_at == first.created_at
    assert [h.partition for h in first.partitions] == [0, 1, 2, 3]


def test_no_checkpoint_is_signed_over_a_ledger_that_does_not_extend_the_last(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    apply(ledger_engine, log.records)
    publish_checkpoint(ledger_engine, key_path, NOW, partitions=PARTITIONS)
    with ledger_engine.begin() as conn:  # a leaf of partition 1 changes under the checkpoint
        conn.execute(
            ledger_nodes.update()
            .where(ledger_nodes.c.partition == 1, ledger_nodes.c.level == 1)
            .values(hash=_h(b"rewritten"))
        )
    with pytest.raises(CheckpointError, match=r"partition 1's first \d+ leaves no longer hash"):
        publish_checkpoint(ledger_engine, key_path, NOW, partitions=PARTITIONS)
    with ledger_engine.begin() as conn:  # the ledger is being rebuilt
        for table in (ledger_nodes, ledger_trees):
            conn.execute(table.delete())
    with pytest.raises(CheckpointError, match="the ledger is behind"):
        publish_checkpoint(ledger_engine, key_path, NOW, partitions=PARTITIONS)


# --- bundles and the verifier ---------------------------------------------------------------


@pytest.fixture
def exported(ledger_engine: Engine, log: Log, key_path: Path, tmp_path: Path) -> Path:
    _two_checkpoints(ledger_engine, log, key_path, tail=6)
    return export_bundle(ledger_engine, tmp_path / "out" / "bundle.tar.gz", key_path).path


def test_an_exported_bundle_verifies(exported: Path, log: Log) -> None:
    report = verify_bundle(exported)

    assert report.ok, report.render()
    assert (report.events, report.partitions, report.checkpoints) == (len(log.records), 4, 2)
    assert report.covered == len(log.records) - 6
    assert report.streams == len({e.stream_id for e in log.envelopes})
    with tarfile.open(exported) as tar:
        assert tar.getnames() == list(MEMBERS)
        manifest = json.loads(_member(tar, "manifest.json"))
        events = _member(tar, "events.ndjson").splitlines()
    assert (manifest["events"], manifest["checkpoints"]) == (len(log.records), 2)
    assert events == [raw for _, _, raw in sorted(log.records)]
    assert "verified" in report.render()


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    stream = tar.extractfile(name)
    assert stream is not None
    return stream.read()


class Bundle:
    """An unpacked copy of a bundle to tamper with, packed again for the verifier."""

    def __init__(self, source: Path, directory: Path) -> None:
        with tarfile.open(source) as tar:
            self.files = {name: _member(tar, name) for name in MEMBERS}
        self.directory = directory
        self.events = self.files["events.ndjson"].splitlines()
        self.positions = [json.loads(line) for line in self.files["positions.ndjson"].splitlines()]
        self.checkpoints = json.loads(self.files["checkpoints.json"])

    def line(self, partition: int, offset: int) -> int:
        return next(i for i, p in enumerate(self.positions) if p[:2] == [partition, offset])

    def event(self, line: int) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.events[line])
        return data

    def verify(self) -> VerifyReport:
        self.files["events.ndjson"] = b"".join(e + b"\n" for e in self.events)
        self.files["positions.ndjson"] = b"".join(
            json.dumps(p, separators=(",", ":")).encode() + b"\n" for p in self.positions
        )
        self.files["checkpoints.json"] = json.dumps(self.checkpoints).encode()
        path = self.directory / "tampered.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            for name in MEMBERS:
                info = tarfile.TarInfo(name)
                info.size = len(self.files[name])
                tar.addfile(info, io.BytesIO(self.files[name]))
        return verify_bundle(path)


def _first(report: VerifyReport) -> Problem:
    assert not report.ok, "the tampered bundle verified"
    return report.problems[0]


def _names_event(problem: Problem, bundle: Bundle, line: int) -> None:
    partition, offset, _ = bundle.positions[line]
    event = bundle.event(line)
    assert (problem.partition, problem.offset) == (partition, offset), problem.describe()
    assert (problem.stream_id, problem.sequence, problem.event_id) == (
        event["stream_id"], event["sequence"], event["event_id"],
    ), problem.describe()  # fmt: skip


def _reseal(event: dict[str, Any]) -> bytes:
    body = {k: v for k, v in event.items() if k != "hash"}
    return canonical_json({**body, "hash": hash_body(body)})


@pytest.fixture
def bundle(exported: Path, tmp_path: Path) -> Bundle:
    return Bundle(exported, tmp_path)


def test_a_changed_event_is_named(bundle: Bundle) -> None:
    line = bundle.line(1, 4)
    event = bundle.event(line)
    event["occurred_at"] = "2020-01-01T00:00:00.000000Z"
    bundle.events[line] = canonical_json(event)  # its stored hash stays as it was

    problem = _first(bundle.verify())

    _names_event(problem, bundle, line)
    assert "hashes to" in problem.what


def test_an_event_the_fast_parser_declines_is_read_as_json_reads_it(bundle: Bundle) -> None:
    # orjson refuses NaN, which json reads: the verifier then reads the event as json
    # does, and judges it on its hash and its place instead of calling it malformed.
    line = bundle.line(2, 1)
    event = bundle.event(line)
    event.pop("hash")
    event["payload"]["extra"] = "NOT-A-NUMBER"
    body = canonical_json(event).replace(b'"NOT-A-NUMBER"', b"NaN")
    claimed = hashlib.sha256(body).hexdigest().encode()
    cut = body.index(b',"occurred_at":')
    bundle.events[line] = body[:cut] + b',"hash":"' + claimed + b'"' + body[cut:]

    problem = _first(bundle.verify())

    _names_event(problem, bundle, line)
    assert "not the event checkpoint" in problem.what


def test_a_changed_event_with_a_valid_hash_of_its_own_is_named(bundle: Bundle) -> None:
    line = bundle.line(2, 1)
    event = bundle.event(line)
    event["actor"]["principal_id"] = "someone-else"
    bundle.events[line] = _reseal(event)

    problem = _first(bundle.verify())

    _names_event(problem, bundle, line)
    assert "not the event checkpoint" in problem.what


def test_a_dropped_event_is_named(bundle: Bundle) -> None:
    line = bundle.line(0, 5)
    del bundle.events[line], bundle.positions[line]

    problem = _first(bundle.verify())

    assert (problem.partition, problem.offset) == (0, 5)
    assert "offset 5 is missing" in problem.what


def test_an_event_dropped_from_the_events_alone_is_named(bundle: Bundle) -> None:
    line = bundle.line(3, 2)
    del bundle.events[line]

    problem = _first(bundle.verify())

    _names_event(problem, bundle, line)  # the event that took its place


def test_two_swapped_events_are_named(bundle: Bundle) -> None:
    first = bundle.line(0, 2)
    second = next(
        i
        for i, p in enumerate(bundle.positions)
        if p[0] == 0 and bundle.event(i)["stream_id"] != bundle.event(first)["stream_id"]
    )
    bundle.events[first], bundle.events[second] = bundle.events[second], bundle.events[first]

    problem = _first(bundle.verify())

    _names_event(problem, bundle, first)


def test_an_event_copied_from_another_stream_is_named(bundle: Bundle) -> None:
    source = next(
        i for i, p in enumerate(bundle.positions) if p[0] == 2 and bundle.event(i)["sequence"] > 1
    )
    at = bundle.line(0, 4)
    _insert(bundle, at, bundle.events[source])

    problem = _first(bundle.verify())

    _names_event(problem, bundle, at)
    assert "is missing" in problem.what  # its stream's earlier events are not before it


def test_a_forged_event_with_a_valid_hash_is_named(bundle: Bundle) -> None:
    forged = bundle.event(bundle.line(1, 0))
    forged.update(stream_id="case:FORGED", sequence=1, prev_hash=GENESIS_HASH)
    at = bundle.line(1, 3)
    bundle.events.insert(at, _reseal(forged))  # the events alone: every later line shifts

    problem = _first(bundle.verify())

    _names_event(problem, bundle, at)
    assert "not the event checkpoint" in problem.what


def test_a_forged_event_inserted_with_care_is_narrowed_to_the_checkpoint(bundle: Bundle) -> None:
    forged = bundle.event(bundle.line(1, 0))
    forged.update(stream_id="case:FORGED", sequence=1, prev_hash=GENESIS_HASH)
    at = bundle.line(1, 3)
    _insert(bundle, at, _reseal(forged))  # positions and leaf hashes rewritten to match

    problem = _first(bundle.verify())

    assert problem.partition == 1
    assert problem.checkpoint_id in (1, 2)
    assert problem.offset is not None
    assert problem.offset <= 3
    assert f"do not hash to checkpoint {problem.checkpoint_id}'s root" in problem.what


def _insert(bundle: Bundle, at: int, raw: bytes) -> None:
    partition, offset, _ = bundle.positions[at]
    bundle.events.insert(at, raw)
    bundle.positions.insert(at, [partition, offset, leaf_of(raw).hex()])
    for position in bundle.positions[at + 1 :]:
        if position[0] == partition:
            position[1] += 1


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(
            lambda c: c[1]["statement"]["partitions"][0].update(root="ab" * 32),
            "signature does not verify", id="root",
        ),
        pytest.param(
            lambda c: c[0].update(signature="00" * 64), "signature does not verify", id="signature"
        ),
        pytest.param(lambda c: c.pop(0), "checkpoint 1 is missing", id="dropped"),
    ],
)  # fmt: skip
def test_a_tampered_checkpoint_is_named(
    bundle: Bundle, tamper: Callable[[list[dict[str, Any]]], object], expected: str
) -> None:
    tamper(bundle.checkpoints["checkpoints"])

    problem = _first(bundle.verify())

    assert problem.kind == "checkpoint"
    assert expected in problem.what


def test_a_bundle_under_another_key_does_not_verify(bundle: Bundle) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    from accountability.services.checkpoints import public_pem

    bundle.files["public-key.pem"] = public_pem(other).encode()

    problem = _first(bundle.verify())

    assert (problem.kind, problem.checkpoint_id) == ("checkpoint", 1)
    assert "names key" in problem.what


# --- the commands -------------------------------------------------------------------------------


def test_the_commands_checkpoint_export_and_verify(
    settings: Settings, log: Log, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.data_dir.mkdir(parents=True)
    engine = db.create(settings.database_url)
    db.create_schema(engine)
    apply(engine, log.records)
    engine.dispose()
    output = tmp_path / "for-oversight.tar.gz"

    assert cmd_checkpoint(settings) == 0
    assert cmd_export(settings, str(output)) == 0
    assert cmd_verify(settings, str(output), live=False) == 0
    printed = capsys.readouterr().out
    assert "checkpoint 1 at" in printed
    assert f"verified {output}: {len(log.records)} events" in printed
    assert (settings.data_dir / "keys" / "checkpoint-ed25519.pem").exists()

    tampered = Bundle(output, tmp_path)
    event = tampered.event(3)
    event["recorded_at"] = "2020-01-01T00:00:00.000000Z"
    tampered.events[3] = canonical_json(event)
    assert not tampered.verify().ok
    assert cmd_verify(settings, str(tmp_path / "tampered.tar.gz"), live=False) == 1
    assert "FAILED" in capsys.readouterr().out
    assert cmd_verify(settings, None, live=False) == 2
    assert cmd_verify(settings, str(output), live=True) == 2
    assert cmd_verify(settings, str(tmp_path / "nowhere.tar.gz"), live=False) == 2


# --- the live log -------------------------------------------------------------------------------


async def _produce(bootstrap: str, records: list[RawRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for partition, _, raw in sorted(records):
            await producer.send_and_wait(EVENTS, raw, partition=partition)
    finally:
        await producer.stop()


@pytest.mark.broker
@pytest.mark.parametrize("processes", [1, 2])
def test_the_live_log_verifies_and_a_later_duplicate_is_named(
    settings: Settings, broker: EmbeddedBroker, log: Log, processes: int
) -> None:
    live = replace(settings, kafka_bootstrap_servers=broker.bootstrap)
    ensure_topics(live)
    asyncio.run(_produce(broker.bootstrap, log.records))
    live.data_dir.mkdir(parents=True)
    engine = db.create(live.database_url)
    db.create_schema(engine)
    apply(engine, log.records)
    engine.dispose()
    assert cmd_checkpoint(live) == 0

    assert cmd_verify(live, None, live=True) == 0

    engine = db.create(live.database_url)
    try:
        partition, _, raw = log.records[4]
        clean = verify_live(engine, broker.bootstrap, PARTITIONS, processes=processes)
        asyncio.run(_produce(broker.bootstrap, [(partition, 0, raw)]))  # published twice
        report = verify_live(engine, broker.bootstrap, PARTITIONS, processes=processes)
    finally:
        engine.dispose()
    assert clean.ok, clean.render()
    assert (clean.events, clean.streams, clean.checkpoints) == (
        len(log.records), len({e.stream_id for e in log.envelopes}), 1,
    )  # fmt: skip
    problem = _first(report)
    assert problem.partition == partition
    assert problem.offset == sum(1 for r in log.records if r[0] == partition)
    assert problem.event_id == log.envelopes[4].event_id
    assert "comes again" in problem.what


# --- GraphQL -------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def read(self, query: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return query(conn)


def _execute(engine: Engine, document: str, actor: Actor | None) -> dict[str, Any]:
    schema = graphene.Schema(query=LedgerQuery)
    context = RequestContext(
        reader=_Reader(engine), submitter=None,  # type: ignore[arg-type]
        policy=DEFAULT_POLICY, clock=lambda: NOW,
    )  # fmt: skip
    token = current_actor.set(actor)
    try:
        result = asyncio.run(
            schema.execute_async(document, context_value=context, middleware=[MIDDLEWARE])
        )
    finally:
        current_actor.reset(token)
    return {"data": result.data, "errors": [e.message for e in result.errors or []]}


def test_graphql_serves_checkpoints_and_proofs(
    ledger_engine: Engine, log: Log, key_path: Path
) -> None:
    first, second = _two_checkpoints(ledger_engine, log, key_path)
    event = log.envelopes[-1]
    officer = Actor("officer-1", Role.OFFICER)

    public = _execute(
        ledger_engine,
        "{ latestCheckpoint { id logRoot statement signature partitions { partition size root } }"
        "  checkpointPublicKey }",
        None,
    )
    proof = _execute(
        ledger_engine,
        f'{{ inclusionProof(eventId: "{event.event_id}", checkpointId: 2) {{ partition leafIndex '
        "treeSize leafHash auditPath partitionRoot partitionIndex partitionCount logPath "
        "logRoot }"
        "  consistencyProof(fromCheckpointId: 1) {"
        "    partitions { partition fromSize toSize path } } }",
        officer,
    )
    anonymous = _execute(
        ledger_engine, "{ consistencyProof(fromCheckpointId: 1) { __typename } }", None
    )
    unknown = _execute(ledger_engine, '{ inclusionProof(eventId: "nope") { leafIndex } }', officer)

    assert not public["errors"]
    latest = public["data"]["latestCheckpoint"]
    assert (latest["id"], latest["logRoot"]) == (2, second.log_root.hex())
    assert "BEGIN PUBLIC KEY" in public["data"]["checkpointPublicKey"]
    assert not proof["errors"], proof["errors"]
    found = proof["data"]["inclusionProof"]
    leaf = bytes.fromhex(found["leafHash"])
    partition_root = root_from_path(
        leaf, found["leafIndex"], found["treeSize"], [bytes.fromhex(h) for h in found["auditPath"]]
    )
    assert partition_root.hex() == found["partitionRoot"]
    log_root = root_from_path(
        leaf_of(partition_root), found["partitionIndex"], found["partitionCount"],
        [bytes.fromhex(h) for h in found["logPath"]],
    )  # fmt: skip
    assert log_root == second.log_root
    with ledger_engine.connect() as conn:
        assert leaf == leaf_of(_stored(conn, event.event_id))
    served = proof["data"]["consistencyProof"]["partitions"]
    sizes = [(p["fromSize"], p["toSize"]) for p in served]
    assert sizes == [
        (a.size, b.size) for a, b in zip(first.partitions, second.partitions, strict=True)
    ]
    assert any(
        0 < a.size < b.size for a, b in zip(first.partitions, second.partitions, strict=True)
    )
    for given, old, new in zip(served, first.partitions, second.partitions, strict=True):
        path = [bytes.fromhex(h) for h in given["path"]]
        if 0 < old.size < new.size:  # the other cases need no proof, and get an empty one
            assert roots_from_consistency(old.size, new.size, path, old.root) == (
                old.root, new.root,
            )  # fmt: skip
        else:
            assert path == []
    assert anonymous["errors"]
    assert "bearer credential" in anonymous["errors"][0]
    assert unknown["errors"] == ["no event 'nope'"]
