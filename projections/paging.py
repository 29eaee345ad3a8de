"""Keyset pagination: pages and the opaque cursors that continue them."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    end_cursor: str | None


class CursorError(ValueError):
    """A pagination cursor this API did not issue."""


def encode_cursor(*key: object) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise CursorError(f"malformed cursor '{cursor}'") from None
    if not isinstance(values, list) or len(values) != arity:
        raise CursorError(f"malformed cursor '{cursor}'")
    return values
