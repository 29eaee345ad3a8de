"""Scalars: instants always carry their offset; JSON payloads are canonical JSON text."""

from datetime import UTC, date, datetime
from typing import Any

import graphene
from graphql.language import ast

from accountability.events.codec import format_instant
from graphql import GraphQLError


class Instant(graphene.Scalar):
    """An ISO 8601 instant with an explicit offset, e.g. 2024-03-01T09:30:00Z."""

    @staticmethod
    def serialize(value: datetime) -> str:
        return format_instant(value)

    @classmethod
    def parse_literal(cls, node: ast.ValueNode, _variables: Any = None) -> datetime:
        if not isinstance(node, ast.StringValueNode):
            raise GraphQLError("an Instant is a string such as 2024-03-01T09:30:00Z")
        return cls.parse_value(node.value)

    @staticmethod
    def parse_value(value: Any) -> datetime:
        if not isinstance(value, str):
            raise GraphQLError("an Instant is a string such as 2024-03-01T09:30:00Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise GraphQLError(f"'{value}' is not an ISO 8601 instant") from None
        if parsed.tzinfo is None:
            raise GraphQLError(f"instant '{value}' needs a time zone offset, such as Z")
        return parsed.astimezone(UTC)


class Day(graphene.Scalar):
    """A calendar date, ISO 8601: 2024-03-01."""

    @staticmethod
    def serialize(value: date) -> str:
        return value.isoformat()

    @classmethod
    def parse_literal(cls, node: ast.ValueNode, _variables: Any = None) -> date:
        if not isinstance(node, ast.StringValueNode):
            raise GraphQLError("a Day is a string such as 2024-03-01")
        return cls.parse_value(node.value)

    @staticmethod
    def parse_value(value: Any) -> date:
        if not isinstance(value, str):
            raise GraphQLError("a Day is a string such as 2024-03-01")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise GraphQLError(f"'{value}' is not an ISO 8601 date (YYYY-MM-DD)") from None
