"""``accountability schema``: the generated schemas on disk, checked or rewritten.

The GraphQL SDL (``graphql/schema.graphql``) and the JSON Schemas (``events/schemas/``)
are generated from the code and checked in, so that clients read them without running
anything. This module says when the checked-in files drifted from the code, and
rewrites them.
"""

import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from accountability.events.jsonschema import SCHEMA_DIR, schema_files
from accountability.graphql.schema import SDL_PATH, sdl

DriftKind = Literal["missing", "differs", "stale"]

_DIFF_LINES: Final = 40
_HINT: Final = "run `accountability schema --write` and commit the result"


@dataclass(frozen=True, slots=True)
class Drift:
    """One file whose content on disk is not what the code generates."""

    path: Path
    kind: DriftKind
    expected: str | None
    """What the code generates; None for a stale file that nothing generates."""


def expected_files(schema_dir: Path = SCHEMA_DIR, sdl_path: Path = SDL_PATH) -> dict[Path, str]:
    files = {schema_dir / name: text for name, text in schema_files().items()}
    files[sdl_path] = sdl()
    return files


def find_drift(schema_dir: Path = SCHEMA_DIR, sdl_path: Path = SDL_PATH) -> list[Drift]:
    """Every generated file that is missing or differs, and every stale schema file."""
    expected = expected_files(schema_dir, sdl_path)
    drift: list[Drift] = []
    for path, text in sorted(expected.items()):
        if not path.is_file():
            drift.append(Drift(path, "missing", text))
        elif path.read_bytes() != text.encode("utf-8"):
            drift.append(Drift(path, "differs", text))
    if schema_dir.is_dir():
        drift.extend(
            Drift(path, "stale", None)
            for path in sorted(schema_dir.glob("*.json"))
            if path not in expected
        )
    return drift


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _diff(drift: Drift) -> list[str]:
    if drift.kind != "differs" or drift.expected is None:
        return []
    name = _shown(drift.path)
    lines = list(
        difflib.unified_diff(
            drift.path.read_text(encoding="utf-8", errors="replace").splitlines(),
            drift.expected.splitlines(),
            fromfile=f"{name} (on disk)",
            tofile=f"{name} (generated)",
            lineterm="",
        )
    )
    if len(lines) > _DIFF_LINES:
        lines = [*lines[:_DIFF_LINES], f"… {len(lines) - _DIFF_LINES} more lines"]
    return lines


def _report(drift: Sequence[Drift]) -> None:
    for item in drift:
        print(f"{_shown(item.path)}: {item.kind}", file=sys.stderr)
        for line in _diff(item):
            print(f"    {line}", file=sys.stderr)
    print(f"{len(drift)} schema file(s) out of date: {_HINT}", file=sys.stderr)


def _write(drift: Sequence[Drift]) -> None:
    for item in drift:
        if item.expected is None:
            item.path.unlink()
            print(f"removed {_shown(item.path)}")
        else:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            item.path.write_bytes(item.expected.encode("utf-8"))
            print(f"wrote {_shown(item.path)}")


def check_or_write(write: bool, *, schema_dir: Path = SCHEMA_DIR, sdl_path: Path = SDL_PATH) -> int:
    """Check the schema files against the code (1 on drift), or rewrite them (``write``)."""
    drift = find_drift(schema_dir, sdl_path)
    if not drift:
        print("schemas are up to date")
        return 0
    if write:
        _write(drift)
        return 0
    _report(drift)
    return 1
