"""GraphQL errors with a machine-readable ``extensions.code`` and no internals."""

from typing import Final

from graphql import GraphQLError


class ApiError(GraphQLError):
    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        extensions: dict[str, object] = {"code": code or self.code}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class NotFound(ApiError):
    code = "NOT_FOUND"


class BadInput(ApiError):
    code = "BAD_USER_INPUT"


class Unavailable(ApiError):
    code = "BROKER_UNAVAILABLE"


class NotConfirmed(ApiError):
    code = "NOT_CONFIRMED"


UNAUTHENTICATED_MESSAGE: Final = (
    "this needs a bearer credential: send 'Authorization: Bearer <credential>'"
)
