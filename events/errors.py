"""Errors of the domain: a rejection names the rule that was broken and the field."""

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error raised by the domain."""


@dataclass(frozen=True, slots=True)
class RejectionDetail:
    code: str
    message: str
    field: str | None = None


class Rejection(DomainError):
    """A command the rules refuse. It changes nothing; its code names the rule."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.detail = RejectionDetail(code=code, message=message, field=field)

    @property
    def code(self) -> str:
        return self.detail.code

    @property
    def message(self) -> str:
        return self.detail.message

    @property
    def field(self) -> str | None:
        return self.detail.field

    def __repr__(self) -> str:
        return f"Rejection({self.code!r}, {self.message!r}, field={self.field!r})"


class InvalidValue(Rejection):
    """A value that is malformed or outside its vocabulary."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__("INVALID_VALUE", message, field)


class DecodeError(DomainError):
    """Bytes or a mapping that are not a valid envelope, command or payload."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ChainBroken(DomainError):
    """An envelope whose hash or link to its predecessor does not verify."""
