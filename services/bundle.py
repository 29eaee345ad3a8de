"""Export bundle: the whole log with its checkpoints, for verification away from us.

This module writes the bundle and opens it again for ``services/verify.py``.

One tar.gz whose members come in this order, so that a verifier can stream it:

- ``manifest.json``: format and version, when and by which tool, counts;
- ``public-key.pem``: the Ed25519 key the checkpoints are signed with;
- ``checkpoints.json``: every checkpoint's statement and signature;
- ``positions.ndjson``: line ``i`` is ``[partition, offset, "<leaf hash hex>"]`` for line
  ``i`` of events.ndjson, the leaf hash being the one the ledger recorded there (or
  null where it has none). It lets a verifier point at the exact event that differs
  from what a checkpoint signed, where a bare root mismatch would only name a range;
- ``events.ndjson``: every event's stored bytes (canonical JSON, exactly as in the
  log), one per line, in partition then offset order.

The bundle needs nothing else to check Member States' signatures: a signed event
carries its signature and the signed command, and the keys are the
``SigningKeyRegistered`` events of the states' own streams. It holds no case key:
sealed narratives and notes travel as ciphertext, and those of an erased case can
never be opened again, by anyone.

Events are read from the ``audit_log`` read model, which holds each event's bytes as
the log delivered them with its partition and offset. The audit archive would do
too, but it is what the decider meant to publish, whereas the audit log (like the
ledger) is what the log actually holds. An event the log holds twice (a duplicate
publish, ADR 0001) is listed by the audit log as an anomaly; its bytes are taken
from its first occurrence when they hash to the ledger's leaf there. Any offset whose
bytes no SQL copy holds is left out and reported: the verifier then names it.
"""

import heapq
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final

from sqlalchemy import Connection, Engine, select

from accountability.events import merkle
from accountability.events.codec import format_instant
from accountability.projections import ledger
from accountability.projections.audit_log import audit_anomalies, audit_log
from accountability.projections.ledger import Checkpoint
from accountability.projections.sql import chunks, select_chunk_size

from .checkpoints import public_key_pem

FORMAT: Final = "accountability-ledger-bundle"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
PUBLIC_KEY: Final = "public-key.pem"
CHECKPOINTS: Final = "checkpoints.json"
POSITIONS: Final = "positions.ndjson"
EVENTS: Final = "events.ndjson"
MEMBERS: Final = (MANIFEST, PUBLIC_KEY, CHECKPOINTS, POSITIONS, EVENTS)

_SHOWN_MISSING: Final = 100
_SIGNED: Final = b',"signature":{"command":'
"""How a signed event's bytes read (canonical JSON sorts the signature's members)."""
_SMALL_MEMBER_LIMIT: Final = 256 * 1024 * 1024


class BundleError(Exception):
    """A bundle that cannot be read at all (not a verification failure of its content)."""


class ExportError(Exception):
    """The bundle cannot be written; nothing was left at the target path."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    path: Path
    events: int
    per_partition: dict[int, int]
    checkpoints: int
    missing: int
    first_missing: list[tuple[int, int]]
    seconds: float


def tool_version() -> str:
    try:
        return f"sea-accountability {version('sea-accountability')}"
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        return "sea-accountability (not installed)"


def export_bundle(
    engine: Engine, path: Path | str, key_path: Path, *, now: datetime | None = None
) -> ExportReport:
    """Write the bundle to ``path`` (atomically: a partial file is never left there)."""
    started = time.perf_counter()
    created = now or datetime.now(UTC)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        ledger.ensure_checkpoint_tables(conn)
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=target.parent) as tmp:
        work = Path(tmp)
        with engine.connect() as conn:
            checkpoints = ledger.all_checkpoints(conn)
            written = _write_events(conn, work / EVENTS, work / POSITIONS)
        (work / CHECKPOINTS).write_text(
            json.dumps(
                {"checkpoints": [
                    {"statement": c.statement(), "signature": c.signature.hex()}
                    for c in checkpoints
                ]},
                indent=1, sort_keys=True,
            ) + "\n"
        )  # fmt: skip
        pem = public_key_pem(key_path)
        (work / PUBLIC_KEY).write_text(pem)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": format_instant(created),
            "tool": tool_version(),
            "source": "audit_log read model",
            "members": list(MEMBERS),
            "leaf_hash": "SHA-256(0x00 || line of events.ndjson without its newline)",
            "events": written.events,
            "partitions": [
                {"partition": p, "events": n} for p, n in sorted(written.per_partition.items())
            ],
            "checkpoints": len(checkpoints),
            "signed_events": written.signed,
            "latest_checkpoint": checkpoints[-1].checkpoint_id if checkpoints else None,
            "key_id": checkpoints[-1].key_id if checkpoints else None,
            "missing": {
                "count": written.missing,
                "first": [list(p) for p in written.first_missing],
            },
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        partial = work / "bundle.tar.gz"
        mtime = int(created.timestamp())
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            for name in MEMBERS:
                info = tar.gettarinfo(work / name, arcname=name)
                info.mtime, info.mode = mtime, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with (work / name).open("rb") as data:
                    tar.addfile(info, data)
        os.replace(partial, target)
    return ExportReport(
        path=target,
        events=written.events,
        per_partition=written.per_partition,
        checkpoints=len(checkpoints),
        missing=written.missing,
        first_missing=written.first_missing,
        seconds=time.perf_counter() - started,
    )


@dataclass(slots=True)
class _Written:
    events: int
    per_partition: dict[int, int]
    missing: int
    first_missing: list[tuple[int, int]]
    signed: int = 0

    def skip(self, partition: int, start: int, end: int) -> None:
        self.missing += end - start
        for offset in range(start, min(end, start + _SHOWN_MISSING)):
            if len(self.first_missing) < _SHOWN_MISSING:
                self.first_missing.append((partition, offset))


def _write_events(conn: Connection, events_path: Path, positions_path: Path) -> _Written:
    written = _Written(0, {}, 0, [])
    sizes = ledger.tree_sizes(conn)
    leaves = ledger.leaf_hashes(conn)
    leaf_at = next(leaves, None)
    next_offset: dict[int, int] = {}
    with events_path.open("wb") as events, positions_path.open("wb") as positions:
        for partition, offset, raw, duplicate in _logged(conn):
            expected = next_offset.get(partition, 0)
            if offset < expected:
                continue
            while leaf_at is not None and leaf_at[:2] < (partition, offset):
                leaf_at = next(leaves, None)
            leaf = (
                leaf_at[2] if leaf_at is not None and leaf_at[:2] == (partition, offset) else None
            )
            if duplicate and leaf is not None and merkle.leaf_hash(raw) != leaf:
                continue  # the log holds other bytes here than the event it repeats
            if b"\n" in raw:
                raise ExportError(
                    f"the event at partition {partition} offset {offset} contains a line "
                    "break: it is not canonical JSON and cannot be written one per line"
                )
            if offset > expected:
                written.skip(partition, expected, offset)
            events.write(raw + b"\n")
            if _SIGNED in raw:
                written.signed += 1
            hex_leaf = b'"' + leaf.hex().encode() + b'"' if leaf is not None else b"null"
            positions.write(b"[%d,%d,%s]\n" % (partition, offset, hex_leaf))
            written.events += 1
            written.per_partition[partition] = written.per_partition.get(partition, 0) + 1
            next_offset[partition] = offset + 1
    for partition, size in sorted(sizes.items()):
        end = next_offset.get(partition, 0)
        if size > end:
            written.skip(partition, end, size)
    return written


def _logged(conn: Connection) -> Iterator[tuple[int, int, bytes, bool]]:
    """Every event the audit log holds, with duplicates' bytes, in (partition, offset) order."""
    repeats: dict[str, list[tuple[int, int]]] = {}
    for partition, offset, event_id in conn.execute(
        select(
            audit_anomalies.c.partition, audit_anomalies.c.log_offset, audit_anomalies.c.event_id
        )
    ):
        repeats.setdefault(event_id, []).append((int(partition), int(offset)))
    extra: list[tuple[int, int, bytes, bool]] = []
    for chunk in chunks(sorted(repeats), select_chunk_size()):
        rows = conn.execute(
            select(audit_log.c.event_id, audit_log.c.envelope).where(
                audit_log.c.event_id.in_(chunk)
            )
        )
        for event_id, envelope in rows:
            for partition, offset in repeats[event_id]:
                extra.append((partition, offset, envelope.encode("utf-8"), True))
    extra.sort()
    result = conn.execution_options(yield_per=5000).execute(
        select(audit_log.c.partition, audit_log.c.log_offset, audit_log.c.envelope).order_by(
            audit_log.c.partition, audit_log.c.log_offset
        )
    )
    main = ((int(p), int(o), envelope.encode("utf-8"), False) for p, o, envelope in result)
    yield from heapq.merge(main, extra)


# --- reading a bundle ----------------------------------------------------------------


@dataclass(slots=True)
class OpenedBundle:
    """A bundle's small members read, its two line files open for streaming."""

    manifest: bytes
    public_key: bytes
    checkpoints: bytes
    positions: IO[bytes]
    events: IO[bytes]


def open_bundle(path: Path, stack: ExitStack) -> OpenedBundle:
    """Open a bundle (a tar.gz, or the directory it was unpacked to) for one pass."""
    if path.is_dir():
        files = {name: path / name for name in MEMBERS}
        missing = [name for name, f in files.items() if not f.is_file()]
        if missing:
            raise BundleError(f"{path} has no {', '.join(missing)}")
        return OpenedBundle(
            files[MANIFEST].read_bytes(),
            files[PUBLIC_KEY].read_bytes(),
            files[CHECKPOINTS].read_bytes(),
            stack.enter_context(files[POSITIONS].open("rb")),
            stack.enter_context(files[EVENTS].open("rb")),
        )
    try:
        # Two readers stream the same file, so positions and events are read side by side
        # without unpacking anything to disk.
        first = stack.enter_context(tarfile.open(path, mode="r|gz"))  # noqa: SIM115
        small: dict[str, bytes] = {}
        positions = _stream_member(first, POSITIONS, small)
        second = stack.enter_context(tarfile.open(path, mode="r|gz"))  # noqa: SIM115
        events = _stream_member(second, EVENTS, {})
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BundleError(f"{path} is not a readable bundle (tar.gz): {exc}") from None
    missing = [n for n in (MANIFEST, PUBLIC_KEY, CHECKPOINTS) if n not in small]
    if missing:
        raise BundleError(
            f"{path} has no {', '.join(missing)} before {POSITIONS}; "
            f"members must come in this order: {', '.join(MEMBERS)}"
        )
    return OpenedBundle(small[MANIFEST], small[PUBLIC_KEY], small[CHECKPOINTS], positions, events)


def _stream_member(tar: tarfile.TarFile, wanted: str, small: dict[str, bytes]) -> IO[bytes]:
    for member in tar:
        name = PurePosixPath(member.name).name
        if not member.isfile():
            continue
        if name != wanted and (name not in MEMBERS or member.size > _SMALL_MEMBER_LIMIT):
            continue
        stream = tar.extractfile(member)
        if stream is None:  # pragma: no cover - a regular member always has one
            raise BundleError(f"the bundle's {name} cannot be read")
        if name == wanted:
            return stream
        small[name] = stream.read()
    raise BundleError(f"the bundle has no {wanted}")


def parse_position(line: bytes) -> tuple[int, int, bytes | None]:
    body = line.rstrip(b"\n")
    if body[:1] != b"[" or body[-1:] != b"]":
        raise ValueError("not a JSON array")
    partition_text, offset_text, leaf_text = body[1:-1].split(b",")
    partition, offset = int(partition_text), int(offset_text)
    if partition < 0 or offset < 0:
        raise ValueError("negative partition or offset")
    if leaf_text == b"null":
        return partition, offset, None
    if len(leaf_text) != 66 or leaf_text[:1] != b'"' or leaf_text[-1:] != b'"':
        raise ValueError("the leaf hash is not 64 hex digits in quotes")
    return partition, offset, bytes.fromhex(leaf_text[1:-1].decode("ascii"))


def read_checkpoints(data: bytes) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of ``checkpoints.json``, and why any entry could not be read."""
    try:
        document = json.loads(data)
        entries = document["checkpoints"]
        if not isinstance(entries, list):
            raise TypeError("'checkpoints' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{CHECKPOINTS} is not readable: {exc}") from None
    checkpoints, unreadable = [], []
    for number, entry in enumerate(entries, 1):
        try:
            if not isinstance(entry, dict):
                raise ledger.LedgerError("an entry is not an object")
            checkpoints.append(
                Checkpoint.from_statement(entry.get("statement"), entry.get("signature"))
            )
        except ledger.LedgerError as exc:
            unreadable.append(f"entry {number} of {CHECKPOINTS}: {exc}")
    return checkpoints, unreadable


def read_manifest(data: bytes) -> dict[str, Any]:
    manifest = json.loads(data)
    if not isinstance(manifest, dict):
        raise ValueError("manifest.json is not a JSON object")
    return manifest
