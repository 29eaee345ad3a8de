"""Verify the log: every event, every stream's chain, every tree and every checkpoint.

``accountability verify --bundle PATH`` reads an export bundle (``services/bundle.py``;
the tar.gz or the directory it was unpacked to) and needs nothing else;
``--live`` reads every partition of the events topic from the broker and the
checkpoints from the database (``verify_live.py``). Both feed :class:`LogVerifier`, which takes each
event once, in partition then offset order, and checks in that one pass:

- its offset follows the previous one of its partition (offsets are dense);
- its bytes are a JSON object whose ``hash`` is SHA-256 over the rest of it. The hash
  is checked on the stored bytes themselves: canonical JSON sorts keys, so the
  top-level ``"hash":"<hex>"`` member can be cut out of the bytes and what is left is
  exactly the canonical encoding that was hashed (tests/unit/test_merkle.py proves it
  against the parse-and-re-encode computation). Bytes that fail are re-encoded to
  tell a changed event from one merely re-formatted;
- its sequence and ``prev_hash`` continue its stream's chain;
- it is the next leaf of its partition's tree; at every size a checkpoint states, the
  tree's root must be the checkpoint's.

Each checkpoint's signature, its log root (the tree over its partition roots), its
id (1, 2, 3 …), its instant and its sizes (never smaller than the previous one's)
are checked as well.

Every event a Member State signed (``signature`` in its envelope, ``events/signing.py``)
is checked once the pass is over, as the keys may sit in a later partition: the
signature must verify over the statement rebuilt from the envelope, by a key the
actor's state registered on its own stream (``SigningKeyRegistered``) before the
event was recorded and had not revoked by then; and the event must be what the
signed command is decided into. "Before" is recorded time, and stream order within
one stream. As every checkpoint's roots are recomputed from the same
leaves, each one verified is consistent with every earlier one.

The report names the first problem: a checkpoint's, else the event at the lowest
(partition, offset) with its stream, sequence and id. A root that differs is pinned
to one event when the leaf hashes listed beside the events (positions.ndjson, or
the ledger's own leaves) hash to the signed root; otherwise it is named as the range
between the last matching checkpoint and the first that does not match.
"""

import gc
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import IO, Any, Final

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accountability.events import merkle
from accountability.events.envelope import GENESIS_HASH, hash_body, hash_without_member
from accountability.events.errors import DecodeError
from accountability.events.signing import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    event_statement,
    from_b64,
    key_id_of,
    mismatch,
    signature_verifies,
)
from accountability.projections import ledger
from accountability.projections.ledger import Checkpoint

from . import bundle
from .checkpoints import CheckpointError, load_public_key, signature_problem

_LISTED: Final = 20
_sha256 = hashlib.sha256
_LEAF = _sha256(b"\x00")
"""RFC 6962's leaf prefix, hashed once: each leaf's hash goes on from a copy of it."""
_fast_loads = orjson.loads
"""About three times json.loads's speed; exact for strings and 64-bit integers."""


def _exact_loads(raw: bytes) -> Any:
    """The values as json reads them, or None if it does not."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not verify, and where."""

    what: str
    kind: str  # "checkpoint", "event" or "bundle", reported in that order
    partition: int | None = None
    offset: int | None = None
    stream_id: str | None = None
    sequence: int | None = None
    event_id: str | None = None
    checkpoint_id: int | None = None

    def sort_key(self) -> tuple[int, int, int, int]:
        rank = {"checkpoint": 0, "event": 1, "bundle": 2}[self.kind]
        return (rank, self.checkpoint_id or 0, self.partition or 0, self.offset or 0)

    def describe(self) -> str:
        if self.kind == "checkpoint":
            return f"checkpoint {self.checkpoint_id}: {self.what}"
        if self.partition is None:
            return self.what
        where = f"partition {self.partition} offset {self.offset}"
        if self.event_id is not None:
            where += f" (stream {self.stream_id} #{self.sequence}, event {self.event_id})"
        return f"{where}: {self.what}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    source: str
    events: int
    partitions: int
    streams: int
    checkpoints: int
    covered: int
    key_id: str | None
    seconds: float
    problems: tuple[Problem, ...]
    signed: int = 0
    """Events signed by a Member State, each checked against its state's keys."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def render(self) -> str:
        counts = (
            f"{self.events:,} events in {self.partitions} partitions, {self.streams:,} streams, "
            f"{self.checkpoints} checkpoints"
        )
        timing = f"{self.seconds:.2f} s ({self.events_per_second:,.0f} events/s)"
        if self.ok:
            lines = [
                f"verified {self.source}: {counts} in {timing}",
                "  every event hashes to its content and continues its stream's chain",
            ]
            if self.checkpoints:
                lines.append(
                    f"  every checkpoint is signed by key {self.key_id}, its roots are those of "
                    "the log's trees, and each extends the one before"
                )
                lines.append(
                    f"  {self.covered:,} events are covered by the latest checkpoint; "
                    f"{self.events - self.covered:,} are newer"
                )
            if self.signed:
                lines.append(
                    f"  {self.signed:,} events signed by Member States verify with keys their "
                    "states had registered, and not revoked, before them"
                )
            return "\n".join(lines)
        first, *rest = self.problems
        lines = [f"FAILED {self.source}: {first.describe()}", f"  read {counts} in {timing}"]
        if rest:
            lines.append(f"  {len(rest)} more problem(s):")
            lines.extend(f"  - {p.describe()}" for p in rest[:_LISTED])
        return "\n".join(lines)


# --- the one pass --------------------------------------------------------------------

_At = tuple[str, str, int]
"""Where an event stands in time: (recorded_at as stored, stream id, sequence)."""


def _before(earlier: _At, later: _At, *, same_instant: bool) -> bool:
    """Whether ``earlier`` was recorded before ``later``: by instant, or by sequence within
    one stream; two streams' events of one instant count as before when ``same_instant``."""
    if earlier[0] != later[0]:
        return earlier[0] < later[0]
    if earlier[1] == later[1]:
        return earlier[2] < later[2]
    return same_instant


@dataclass(slots=True)
class _StateKey:
    public_key: bytes
    registered: _At
    revoked: _At | None = None


@dataclass(frozen=True, slots=True)
class _Signed:
    """A signed event, kept until every key of the log is known."""

    located: Problem
    at: _At
    member_state: str | None
    key_id: str
    value: bytes
    signed: bytes
    mismatch: str | None


@dataclass(slots=True)
class _Partition:
    number: int
    targets: frozenset[int]
    next_offset: int = 0
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    roots: dict[int, bytes] = field(default_factory=lambda: {0: merkle.EMPTY_ROOT})
    problem: Problem | None = None
    suspect: Problem | None = None
    shadow: merkle.Frontier | None = None
    shadow_roots: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartialVerification:
    """One verifier's findings over some partitions (picklable, for worker processes)."""

    events: int
    problems: list[Problem]
    parts: dict[int, _Partition]
    streams: dict[str, tuple[int, str, int, int]]
    keys: dict[tuple[str, str], _StateKey]
    signed: list[_Signed]


class LogVerifier:
    """Checks events fed in partition then offset order against checkpoints and a key.

    ``listing`` names where the listed leaf hashes come from, for the messages.
    """

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        public_key: Ed25519PublicKey | None,
        *,
        listing: str,
    ) -> None:
        self.checkpoints = sorted(checkpoints, key=lambda c: c.checkpoint_id)
        self.public_key = public_key
        self.listing = listing
        self.events = 0
        self.problems: list[Problem] = []
        targets: dict[int, set[int]] = {}
        for checkpoint in self.checkpoints:
            for head in checkpoint.partitions:
                targets.setdefault(head.partition, set()).add(head.size)
        self._targets = {p: frozenset(sizes) for p, sizes in targets.items()}
        self._parts: dict[int, _Partition] = {}
        # stream -> (last sequence, its hash, partition, offset)
        self._streams: dict[str, tuple[int, str, int, int]] = {}
        self._keys: dict[tuple[str, str], _StateKey] = {}
        self._signed: list[_Signed] = []

    def partial(self) -> "PartialVerification":
        """What this verifier found in its partitions, to be absorbed by another one."""
        return PartialVerification(
            self.events, self.problems, self._parts, self._streams, self._keys, self._signed
        )

    def absorb(self, partial: "PartialVerification") -> None:
        """Take in what a verifier of other partitions found (``verify_live.py``).

        Partitions and streams do not overlap between verifiers (a stream lives in one
        partition; a stream found in two is already a problem in each); keys and signed
        events are checked together, in :meth:`finish`.
        """
        self.events += partial.events
        self.problems.extend(partial.problems)
        self._parts.update(partial.parts)
        for stream_id, head in partial.streams.items():
            self._streams.setdefault(stream_id, head)
        for key_ref, key in partial.keys.items():
            self._keys.setdefault(key_ref, key)
        self._signed.extend(partial.signed)

    def _partition(self, number: int) -> _Partition:
        part = self._parts.get(number)
        if part is None:
            part = self._parts[number] = _Partition(number, self._targets.get(number, frozenset()))
        return part

    def feed(self, partition: int, offset: int, raw: bytes, listed: bytes | None) -> None:
        """Check one event: where it stands, its hash, its chain; add it to its tree."""
        self.events += 1
        part = self._parts.get(partition) or self._partition(partition)
        # orjson reads the chain's members exactly; beyond them it may differ from json
        # (a number past 64 bits becomes a float, NaN is refused), so whatever reads
        # more than those members (a diagnosis, a signature, a key) reads json's values.
        exact = False
        try:
            data = _fast_loads(raw)
        except ValueError:
            data, exact = _exact_loads(raw), True
        # The common case, inline: every check passes. Anything else is diagnosed apart.
        ok = False
        if offset == part.next_offset and type(data) is dict:
            claimed = data.get("hash")
            stream_id = data.get("stream_id")
            sequence = data.get("sequence")
            prev_hash = data.get("prev_hash")
            if (
                type(claimed) is str
                and type(stream_id) is str
                and type(sequence) is int
                and type(prev_hash) is str
                and type(data.get("event_id")) is str
            ):
                head = self._streams.get(stream_id)
                ok = hash_without_member(raw, claimed) == claimed and (
                    (sequence == 1 and prev_hash == GENESIS_HASH)
                    if head is None
                    else (sequence == head[0] + 1 and prev_hash == head[1])
                )
                if ok:
                    self._streams[stream_id] = (sequence, claimed, partition, offset)
        if not ok:
            if not exact:
                data, exact = _exact_loads(raw), True
            problem = self._diagnose(part, partition, offset, raw, data)
            if part.problem is None:
                part.problem = problem
        if type(data) is dict and ("signature" in data or data.get("type") in _KEY_EVENTS):
            if not exact:
                data, exact = _exact_loads(raw), True
            if type(data) is dict and "signature" in data:
                self._note_signed(partition, offset, data)
            if type(data) is dict and data.get("type") in _KEY_EVENTS:
                self._note_key(partition, offset, data)
        leaf_hash = _LEAF.copy()
        leaf_hash.update(raw)
        leaf = leaf_hash.digest()
        if listed is not None and listed != leaf and part.suspect is None:
            part.suspect = self._located(partition, offset, data)
            part.shadow = part.frontier.copy()
        if part.shadow is not None:
            if listed is None:
                part.shadow = None
            else:
                part.shadow.push(listed)
        part.frontier.push(leaf)
        part.next_offset = offset + 1
        size = part.frontier.size
        if size in part.targets:
            part.roots[size] = part.frontier.root()
            if part.shadow is not None:
                part.shadow_roots[size] = part.shadow.root()

    def _diagnose(
        self, part: _Partition, partition: int, offset: int, raw: bytes, data: object
    ) -> Problem:
        """What is wrong with an event off the fast path; moves its stream's chain the same."""
        problem = None
        if offset != part.next_offset:
            problem = self._position_problem(part, offset)
        if data is None:
            try:
                json.loads(raw)
            except ValueError as exc:
                return problem or Problem(f"not valid JSON: {exc}", "event", partition, offset)
        if type(data) is not dict:
            return problem or Problem("not a JSON object", "event", partition, offset)
        found = self._check_event(partition, offset, raw, data)
        return problem or found or Problem("does not verify", "event", partition, offset)

    def _check_event(
        self, partition: int, offset: int, raw: bytes, data: dict[str, Any]
    ) -> Problem | None:
        claimed = data.get("hash")
        stream_id = data.get("stream_id")
        sequence = data.get("sequence")
        prev_hash = data.get("prev_hash")
        event_id = data.get("event_id")
        if (
            type(claimed) is not str
            or type(stream_id) is not str
            or type(sequence) is not int
            or type(prev_hash) is not str
            or type(event_id) is not str
        ):
            return Problem(
                "lacks a string hash, stream_id, prev_hash or event_id, or an integer sequence",
                "event", partition, offset, event_id=str(event_id),
            )  # fmt: skip

        def problem(what: str) -> Problem:
            return Problem(what, "event", partition, offset, stream_id, sequence, event_id)

        if hash_without_member(raw, claimed) != claimed:
            return problem(_hash_problem(data, claimed))
        head = self._streams.get(stream_id)
        last, last_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
        found = None
        if sequence != last + 1:
            if head is not None and sequence <= last:
                found = problem(
                    f"stream {stream_id} already reached #{last} (partition {head[2]} offset "
                    f"{head[3]}): #{sequence} comes again or out of order"
                )
            elif sequence < 1:
                found = problem(f"sequence {sequence} is not a positive number")
            else:
                missing = (
                    f"#{last + 1}" if sequence == last + 2 else f"#{last + 1}..#{sequence - 1}"
                )
                found = problem(f"#{sequence} follows #{last}: {missing} of {stream_id} is missing")
        elif prev_hash != last_hash:
            found = problem(
                f"prev_hash {prev_hash[:12]}… is not the hash of #{last} ({last_hash[:12]}…)"
            )
        if sequence > last:
            self._streams[stream_id] = (sequence, claimed, partition, offset)
        return found

    def _position_problem(self, part: _Partition, offset: int) -> Problem:
        expected = part.next_offset
        if offset > expected:
            gap = (
                f"offset {expected} is"
                if offset == expected + 1
                else f"offsets {expected}..{offset - 1} are"
            )
            return Problem(
                f"{gap} missing (the next event is at {offset})", "event", part.number, expected
            )
        return Problem(
            f"offset {offset} comes after offset {expected - 1}: repeated or out of order",
            "event", part.number, offset,
        )  # fmt: skip

    @staticmethod
    def _located(partition: int, offset: int, data: object) -> Problem:
        if type(data) is dict:
            sequence = data.get("sequence")
            return Problem(
                "", "event", partition, offset, str(data.get("stream_id")),
                sequence if type(sequence) is int else None, str(data.get("event_id")),
            )  # fmt: skip
        return Problem("", "event", partition, offset)

    def add_problem(self, problem: Problem) -> None:
        self.problems.append(problem)

    # --- signatures ---------------------------------------------------------------------

    def _note_signed(self, partition: int, offset: int, data: dict[str, Any]) -> None:
        located = self._located(partition, offset, data)
        try:
            at = _at(data)
            signature = data["signature"]
            if type(signature) is not dict:
                raise DecodeError("it is not an object")
            key_id, value = signature.get("key_id"), signature.get("signature")
            if type(key_id) is not str or type(value) is not str:
                raise DecodeError("it has no key_id and signature strings")
            signed = event_statement(
                str(data.get("command_id")), str(data.get("stream_id")),
                str(data.get("occurred_at")), signature,
            )  # fmt: skip
            command = signature["command"]
            payload = data.get("payload")
            actor = data.get("actor")
            member_state = actor.get("member_state") if type(actor) is dict else None
            self._signed.append(
                _Signed(
                    located, at, member_state if type(member_state) is str else None, key_id,
                    from_b64(value, "the signature", SIGNATURE_BYTES), signed,
                    mismatch(command["type"], command.get("payload") or {}, str(data.get("type")),
                             payload if type(payload) is dict else {}),
                )
            )  # fmt: skip
        except (DecodeError, ValueError, KeyError, TypeError) as exc:
            self.problems.append(_with(located, f"its signature cannot be read: {exc}"))

    def _note_key(self, partition: int, offset: int, data: dict[str, Any]) -> None:
        located = self._located(partition, offset, data)
        payload = data.get("payload")
        try:
            at = _at(data)
            if type(payload) is not dict:
                raise DecodeError("its payload is not an object")
            member_state, key_id = str(payload["member_state"]), str(payload["key_id"])
        except (DecodeError, KeyError) as exc:
            self.problems.append(_with(located, f"a key event that cannot be read: {exc}"))
            return
        if data.get("stream_id") != f"state:{member_state}":
            self.problems.append(_with(located, f"a key of {member_state} outside its stream"))
            return
        known = self._keys.get((member_state, key_id))
        if data.get("type") == "SigningKeyRevoked":
            if known is not None and known.revoked is None:
                known.revoked = at
            return
        try:
            raw = from_b64(str(payload.get("public_key")), "public_key", PUBLIC_KEY_BYTES)
        except ValueError as exc:
            self.problems.append(_with(located, f"its public key cannot be read: {exc}"))
            return
        if key_id_of(raw) != key_id:
            self.problems.append(
                _with(located, f"it names key {key_id}, but its public key is {key_id_of(raw)}")
            )
            return
        if known is None:
            self._keys[(member_state, key_id)] = _StateKey(raw, at)

    def _signature_problems(self) -> Iterator[Problem]:
        for signed in self._signed:
            state, key_id = signed.member_state, signed.key_id
            if signed.mismatch is not None:
                yield _with(signed.located, f"signed, but {signed.mismatch}")
                continue
            if state is None:
                yield _with(signed.located, "signed, but its actor acts for no Member State")
                continue
            key = self._keys.get((state, key_id))
            if key is None or not _before(key.registered, signed.at, same_instant=True):
                yield _with(
                    signed.located,
                    f"signed with key {key_id}, which {state} had not registered before it",
                )
            elif key.revoked is not None and _before(key.revoked, signed.at, same_instant=False):
                yield _with(
                    signed.located,
                    f"signed with key {key_id}, which {state} had revoked before it",
                )
            elif not signature_verifies(key.public_key, signed.value, signed.signed):
                yield _with(
                    signed.located,
                    f"its signature does not verify with {state}'s key {key_id} over the "
                    "command it names: forged, or the command was changed",
                )

    # --- after the last event -----------------------------------------------------------

    def finish(self, source: str, seconds: float) -> VerifyReport:
        problems = [*self.problems, *self._signature_problems(), *self._checkpoint_problems()]
        for checkpoint in self.checkpoints:
            for head in checkpoint.partitions:
                self._partition(head.partition)
        for part in self._parts.values():
            problems.extend(self._tree_problems(part))
        problems.sort(key=Problem.sort_key)
        seen: set[tuple[int | None, int | None]] = set()
        unique = []
        for problem in problems:  # one problem per event: the first found there
            if problem.kind == "event" and problem.event_id is not None:
                if (problem.partition, problem.offset) in seen:
                    continue
                seen.add((problem.partition, problem.offset))
            unique.append(problem)
        latest = self.checkpoints[-1] if self.checkpoints else None
        return VerifyReport(
            source=source,
            events=self.events,
            partitions=len(self._parts),
            streams=len(self._streams),
            checkpoints=len(self.checkpoints),
            covered=sum(h.size for h in latest.partitions) if latest else 0,
            key_id=latest.key_id if latest else None,
            seconds=seconds,
            problems=tuple(unique),
            signed=len(self._signed),
        )

    def _checkpoint_problems(self) -> Iterator[Problem]:
        previous: Checkpoint | None = None
        for checkpoint in self.checkpoints:

            def problem(what: str, checkpoint: Checkpoint = checkpoint) -> Problem:
                return Problem(what, "checkpoint", checkpoint_id=checkpoint.checkpoint_id)

            if self.public_key is None:
                yield problem("there is no public key to check its signature with")
            else:
                why = signature_problem(checkpoint, self.public_key)
                if why is not None:
                    yield problem(why)
            numbers = [h.partition for h in checkpoint.partitions]
            if numbers != list(range(len(numbers))):
                yield problem(f"its partitions are {numbers}, not 0..{len(numbers) - 1}")
            if ledger.log_root(checkpoint.partitions) != checkpoint.log_root:
                yield problem("its log root is not the tree hash of its partition roots")
            expected_id = previous.checkpoint_id + 1 if previous else 1
            if checkpoint.checkpoint_id != expected_id:
                yield problem(f"checkpoint {expected_id} is missing before it")
            if previous is not None:
                if checkpoint.created_at < previous.created_at:
                    yield problem(f"it is dated before checkpoint {previous.checkpoint_id}")
                for old in previous.partitions:
                    new = checkpoint.head(old.partition)
                    if new is None or new.size < old.size:
                        yield problem(
                            f"partition {old.partition} shrank from {old.size} leaves "
                            f"(checkpoint {previous.checkpoint_id}) to {new.size if new else 0}"
                        )
            previous = checkpoint

    def _tree_problems(self, part: _Partition) -> Iterator[Problem]:
        if part.problem is not None:
            yield part.problem
        count = part.frontier.size
        matched, explained = 0, False
        heads = [(c, c.head(part.number)) for c in self.checkpoints]
        for checkpoint, head in sorted(
            ((c, h) for c, h in heads if h is not None), key=lambda ch: ch[1].size
        ):
            if head.size > count:
                yield Problem(
                    f"checkpoint {checkpoint.checkpoint_id} states {head.size} events here but "
                    f"only {count} are present: offsets {count}..{head.size - 1} are missing",
                    "event", part.number, count, checkpoint_id=checkpoint.checkpoint_id,
                )  # fmt: skip
                break
            if part.roots.get(head.size) == head.root:
                matched = max(matched, head.size)
                continue
            suspect = part.suspect
            if suspect is not None and matched <= (suspect.offset or 0) < head.size:
                explained = True
                if part.shadow_roots.get(head.size) == head.root:
                    what = (
                        f"this is not the event checkpoint {checkpoint.checkpoint_id} signed at "
                        "this position (changed, inserted, dropped or moved)"
                    )
                else:
                    what = (
                        f"its leaf hash is not the one {self.listing} lists here, and the first "
                        f"{head.size} events do not hash to checkpoint "
                        f"{checkpoint.checkpoint_id}'s root"
                    )
                yield _with(suspect, what)
            else:
                known = f"; the first {matched} do" if matched else ""
                yield Problem(
                    f"the first {head.size} events do not hash to checkpoint "
                    f"{checkpoint.checkpoint_id}'s root{known}: an event in offsets "
                    f"{matched}..{head.size - 1} is not the one signed",
                    "event", part.number, matched, checkpoint_id=checkpoint.checkpoint_id,
                )  # fmt: skip
            break
        if part.suspect is not None and not explained:
            covered = any(h is not None and h.size > (part.suspect.offset or 0) for _, h in heads)
            what = (
                f"{self.listing} lists another leaf hash here; the event itself matches the "
                "checkpoints"
                if covered
                else f"its leaf hash is not the one {self.listing} lists here (no checkpoint "
                "covers this position yet)"
            )
            yield _with(part.suspect, what)


_KEY_EVENTS: Final = frozenset({"SigningKeyRegistered", "SigningKeyRevoked"})


def _at(data: dict[str, Any]) -> _At:
    recorded_at, stream_id, sequence = (
        data.get("recorded_at"), data.get("stream_id"), data.get("sequence"),
    )  # fmt: skip
    if type(recorded_at) is not str or type(stream_id) is not str or type(sequence) is not int:
        raise DecodeError("it lacks its recorded_at, stream_id or sequence")
    return (recorded_at, stream_id, sequence)


def _with(located: Problem, what: str) -> Problem:
    return Problem(
        what, located.kind, located.partition, located.offset, located.stream_id,
        located.sequence, located.event_id, located.checkpoint_id,
    )  # fmt: skip


def _hash_problem(data: dict[str, Any], claimed: str) -> str:
    """Why an event's bytes do not hash to its hash (off the fast path: re-encodes)."""
    body = {k: v for k, v in data.items() if k != "hash"}
    try:
        recomputed = hash_body(body)
    except (TypeError, ValueError) as exc:
        return f"its content cannot be encoded canonically: {exc}"
    if recomputed == claimed:
        return "its bytes are not the canonical encoding of its content (which hashes correctly)"
    return f"its content hashes to {recomputed[:12]}…, not to its stored hash {claimed[:12]}…"


# --- reading a bundle -------------------------------------------------------------------


def read_public_key(pem: bytes | str | None) -> tuple[Ed25519PublicKey | None, Problem | None]:
    if pem is None:
        return None, None
    try:
        return load_public_key(pem), None
    except CheckpointError as exc:
        return None, Problem(f"the public key cannot be read: {exc}", "bundle")


def verify_bundle(path: Path | str) -> VerifyReport:
    """Verify an export bundle with nothing but its own content."""
    started = time.perf_counter()
    source = Path(path)
    with ExitStack() as stack:
        opened = bundle.open_bundle(source, stack)
        try:
            manifest = bundle.read_manifest(opened.manifest)
        except ValueError as exc:
            raise bundle.BundleError(f"{bundle.MANIFEST} is not readable: {exc}") from None
        if (
            manifest.get("format") != bundle.FORMAT
            or manifest.get("format_version") != bundle.FORMAT_VERSION
        ):
            raise bundle.BundleError(
                f"{source} is a {manifest.get('format')!r} v{manifest.get('format_version')} "
                f"bundle; this verifier reads {bundle.FORMAT} v{bundle.FORMAT_VERSION}"
            )
        checkpoints, unreadable = bundle.read_checkpoints(opened.checkpoints)
        problems = [Problem(why, "bundle") for why in unreadable]
        key, key_problem = read_public_key(opened.public_key)
        verifier = LogVerifier(checkpoints, key, listing=bundle.POSITIONS)
        for problem in [*problems, *([key_problem] if key_problem else [])]:
            verifier.add_problem(problem)
        with without_cyclic_gc():
            _feed_lines(verifier, opened.positions, opened.events)
    return verifier.finish(str(source), time.perf_counter() - started)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """The pass allocates a few objects per event and keeps none in cycles: the cyclic
    collector would only rescan the growing table of stream heads, again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _feed_lines(verifier: LogVerifier, positions: IO[bytes], events: IO[bytes]) -> None:
    feed = verifier.feed
    for number, (position, line) in enumerate(zip_longest(positions, events), 1):
        if position is None or line is None:
            longer, shorter = (
                (bundle.EVENTS, bundle.POSITIONS)
                if position is None
                else (bundle.POSITIONS, bundle.EVENTS)
            )
            verifier.add_problem(
                Problem(f"{longer} has more lines than {shorter} (from line {number})", "bundle")
            )
            return
        try:
            partition, offset, listed = bundle.parse_position(position)
        except ValueError as exc:
            verifier.add_problem(
                Problem(f"line {number} of {bundle.POSITIONS} is malformed: {exc}", "bundle")
            )
            return
        feed(partition, offset, line[:-1] if line.endswith(b"\n") else line, listed)
