"""One codec: typed values to canonical JSON and back.

Canonical JSON is sorted keys, UTF-8, no insignificant whitespace, no floats, and
instants as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. Payloads use only strings,
integers, booleans, dates, instants, string enums, optionals and tuples of those,
so the same value always encodes to the same bytes.
"""

import dataclasses
import json
import re
import types
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final, TypeVar, Union, get_args, get_origin, get_type_hints

from .errors import DecodeError
from .types import JsonObject, JsonValue

T = TypeVar("T")

_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")


def canonical_json(value: JsonValue) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def format_instant(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    # isoformat pads the year to four digits; strftime("%Y") does not below 1000.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_instant(text: str, field: str | None = None) -> datetime:
    """Parse an ISO 8601 instant with an explicit offset; the result is in UTC."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise DecodeError(f"'{text}' is not an ISO 8601 instant", field) from None
    if value.tzinfo is None:
        raise DecodeError(f"instant '{text}' has no time zone offset", field)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise DecodeError(
            f"instant '{text}' is outside the years 1 to 9999 in UTC", field
        ) from None


def parse_date(text: str, field: str | None = None) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise DecodeError(f"'{text}' is not an ISO 8601 date (YYYY-MM-DD)", field) from None


# --- field descriptions -------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class FieldKind:
    """What a dataclass field holds, as far as JSON is concerned."""

    base: type
    optional: bool = False
    repeated: bool = False

    @property
    def enum(self) -> type[StrEnum] | None:
        return self.base if issubclass(self.base, StrEnum) else None


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: FieldKind
    required: bool


def _unwrap_newtype(tp: Any) -> Any:
    while hasattr(tp, "__supertype__"):
        tp = tp.__supertype__
    return tp


def _field_kind(tp: Any) -> FieldKind:
    tp = _unwrap_newtype(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        inner = _field_kind(members[0])
        return dataclasses.replace(inner, optional=True)
    if origin is tuple:
        args = get_args(tp)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"only tuple[X, ...] is supported, not {tp!r}")
        return FieldKind(base=_unwrap_newtype(args[0]), repeated=True)
    if tp in (str, int, bool, date, datetime) or (isinstance(tp, type) and issubclass(tp, StrEnum)):
        return FieldKind(base=tp)
    raise TypeError(f"unsupported field type {tp!r}")


_SPECS: dict[type, tuple[FieldSpec, ...]] = {}


def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """The fields of a payload or command dataclass, computed once per class."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = _SPECS[cls] = _describe(cls)
    return specs


def _describe(cls: type) -> tuple[FieldSpec, ...]:
    hints = get_type_hints(cls)
    return tuple(
        FieldSpec(
            name=f.name,
            kind=_field_kind(hints[f.name]),
            required=f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


# --- values to JSON -------------------------------------------------------------------


def _scalar_to_json(value: object) -> JsonValue:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot encode {value!r}")


def to_json_object(value: object) -> JsonObject:
    """A dataclass instance as a JSON object (field names as keys)."""
    out: JsonObject = {}
    for spec in field_specs(type(value)):
        raw = getattr(value, spec.name)
        if spec.kind.repeated:
            out[spec.name] = [_scalar_to_json(item) for item in raw]
        else:
            out[spec.name] = _scalar_to_json(raw)
    return out


# --- JSON to values -------------------------------------------------------------------


def _scalar_from_json(kind: FieldKind, raw: JsonValue, field: str) -> object:
    base = kind.base
    if base is bool:
        if not isinstance(raw, bool):
            raise DecodeError(f"{field} must be true or false, not {raw!r}", field)
        return raw
    if base is int:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise DecodeError(f"{field} must be an integer, not {raw!r}", field)
        return raw
    if not isinstance(raw, str):
        raise DecodeError(f"{field} must be a string, not {raw!r}", field)
    if base is str:
        return raw
    if base is datetime:
        return parse_instant(raw, field)
    if base is date:
        return parse_date(raw, field)
    enum = kind.enum
    if enum is not None:
        try:
            return enum(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise DecodeError(f"{field} must be one of {allowed}; got '{raw}'", field) from None
    raise TypeError(f"unsupported kind {kind!r}")  # pragma: no cover - field_specs refuses it


def from_json_object(cls: type[T], data: Mapping[str, JsonValue]) -> T:
    """Build a dataclass from a JSON object, refusing unknown, missing or ill-typed fields."""
    if not isinstance(data, Mapping):
        raise DecodeError(f"{cls.__name__} must be a JSON object")
    specs = field_specs(cls)
    known = {s.name for s in specs}
    for key in data:
        if key not in known:
            raise DecodeError(f"unknown field '{key}' for {cls.__name__}", key)
    kwargs: dict[str, object] = {}
    for spec in specs:
        if spec.name not in data:
            if spec.required:
                raise DecodeError(f"missing field '{spec.name}' for {cls.__name__}", spec.name)
            continue
        raw = data[spec.name]
        if raw is None:
            if not spec.kind.optional:
                raise DecodeError(f"{spec.name} must not be null", spec.name)
            kwargs[spec.name] = None
        elif spec.kind.repeated:
            if not isinstance(raw, list):
                raise DecodeError(f"{spec.name} must be a list", spec.name)
            kwargs[spec.name] = tuple(_scalar_from_json(spec.kind, x, spec.name) for x in raw)
        else:
            kwargs[spec.name] = _scalar_from_json(spec.kind, raw, spec.name)
    return cls(**kwargs)


def loads_object(raw: bytes | str, what: str) -> JsonObject:
    """Parse a JSON object that can be written back canonically; anything else is refused."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError(f"{what} contains an unpaired UTF-16 surrogate") from None
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or too many digits
        raise DecodeError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise DecodeError(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise DecodeError(f"{what} must be a JSON object")
    if _SURROGATE_ESCAPE.search(raw):
        # A lone \ud800 parses into a string that cannot be encoded as UTF-8 again.
        try:
            canonical_json(value)
        except UnicodeEncodeError:
            raise DecodeError(f"{what} contains an unpaired UTF-16 surrogate") from None
    return value


Upcaster = Callable[[JsonObject], JsonObject]
"""``upcast_vN_to_vN1(payload) -> payload``: pure, one version step at a time."""


def upcast(
    type_name: str,
    version: int,
    payload: JsonObject,
    target: int,
    upcasters: Mapping[tuple[str, int], Upcaster],
) -> JsonObject:
    """Bring an old payload up to ``target`` through the chain of one-step upcasters."""
    while version < target:
        step = upcasters.get((type_name, version))
        if step is None:
            raise DecodeError(f"no upcaster for {type_name} v{version} to v{version + 1}")
        payload = step(payload)
        version += 1
    if version > target:
        raise DecodeError(f"{type_name} v{version} is newer than this code knows (v{target})")
    return payload
