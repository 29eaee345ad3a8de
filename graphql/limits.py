"""Limits on what one GraphQL document may ask for, checked before anything runs.

- ``MAX_TOKENS``: the document's length in tokens, counted before it is parsed, so
  that no validation rule ever walks a huge document (QUERY_TOO_LARGE).
- ``MAX_DEPTH``: nested selections, introspection included; GraphiQL's introspection
  query is 17 deep, the deepest question about data 5 (QUERY_TOO_DEEP).
- ``MAX_INTROSPECTION_LISTS``: how deeply ``fields``, ``inputFields``, ``interfaces``
  and ``possibleTypes`` may nest in introspection, the only cycle in the schema; the
  standard introspection query nests them once (QUERY_TOO_DEEP).
- ``MAX_COST``: every field costs 1, times the size of each list above it: a field's
  ``first`` argument (capped at ``MAX_FIRST``), or ``DEFAULT_LIST_SIZE`` for a list
  without one. A top-level field, which reads the database, costs ``ROOT_FIELD_COST``
  more, so that aliases cannot repeat an expensive read many times over. A full page
  of 100 country records with every field costs about 12,800. Introspection of the
  schema is bounded by the two rules above and not counted (QUERY_TOO_COSTLY).

The page sizes each list accepts (``first``) are checked by its resolver; the size
of a request's body by the HTTP endpoint.
"""

from collections.abc import Mapping
from typing import Any, Final

from graphql.language import Lexer, TokenKind

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    Source,
    TypeMetaFieldDef,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)

MAX_TOKENS: Final = 5_000
MAX_DEPTH: Final = 20
MAX_INTROSPECTION_LISTS: Final = 1
MAX_COST: Final = 30_000
ROOT_FIELD_COST: Final = 1_000
MAX_FIRST: Final = 500
DEFAULT_LIST_SIZE: Final = 10
MAX_BODY_BYTES: Final = 1024 * 1024

_INTROSPECTION_LISTS: Final = frozenset({"fields", "inputFields", "interfaces", "possibleTypes"})


class LimitExceeded(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def check_tokens(query: str, limit: int = MAX_TOKENS) -> None:
    """Refuse a document longer than ``limit`` tokens without parsing it."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > limit:
                raise LimitExceeded(f"the document has more than {limit} tokens", "QUERY_TOO_LARGE")
    except GraphQLError:
        return  # a syntax error: the parser reports it, with its location


def _error(message: str, node: Any, code: str) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


def rules(
    variables: Mapping[str, Any] | None = None,
    *,
    max_depth: int = MAX_DEPTH,
    max_cost: int = MAX_COST,
) -> list[type[ValidationRule]]:
    """The validation rules for one request (the cost reads ``first`` from its variables)."""
    given = dict(variables or {})

    class Limits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            defaults = {
                d.variable.name.value: int(d.default_value.value)
                for d in node.variable_definitions or ()
                if isinstance(d.default_value, IntValueNode)
            }
            walk = _Walk(self.context, {**defaults, **given})
            root = _root_type(self.context, node.operation)
            if root is None:
                return
            depth = walk.depth(node.selection_set, root)
            if depth > max_depth:
                self.report_error(_error(
                    f"the query is {depth} levels deep; at most {max_depth} are allowed",
                    node, "QUERY_TOO_DEEP",
                ))  # fmt: skip
                return
            nested = walk.introspection_lists(node.selection_set, 0)
            if nested > MAX_INTROSPECTION_LISTS:
                self.report_error(_error(
                    "introspection nests fields, inputFields, interfaces or possibleTypes "
                    f"{nested} deep; at most {MAX_INTROSPECTION_LISTS} is allowed",
                    node, "QUERY_TOO_DEEP",
                ))  # fmt: skip
                return
            cost = walk.cost(node.selection_set, root, top=True)
            if cost > max_cost:
                self.report_error(_error(
                    f"the query would cost about {cost} (each field 1, times the size of "
                    f"every list above it); at most {max_cost} is allowed: ask for fewer "
                    "items (first) or fewer fields",
                    node, "QUERY_TOO_COSTLY",
                ))  # fmt: skip

    return [Limits]


def _root_type(context: ValidationContext, operation: OperationType) -> GraphQLObjectType | None:
    schema = context.schema
    if operation is OperationType.QUERY:
        return schema.query_type
    if operation is OperationType.MUTATION:
        return schema.mutation_type
    return schema.subscription_type


class _Walk:
    """Depth and cost of selection sets, each fragment measured once (no fragment bombs)."""

    def __init__(self, context: ValidationContext, variables: dict[str, Any]) -> None:
        self._context = context
        self._variables = variables
        self._depths: dict[tuple[str, str], int] = {}
        self._costs: dict[tuple[str, str], int] = {}
        self._top_costs: dict[tuple[str, str], int] = {}
        self._lists: dict[tuple[str, int], int] = {}
        self._open: set[str] = set()

    def _fragment(self, name: str) -> FragmentDefinitionNode | None:
        if name in self._open:
            return None  # a cycle: NoFragmentCyclesRule reports it
        return self._context.get_fragment(name)

    def _fields(self, node: SelectionSetNode, parent: GraphQLNamedType) -> list[tuple[Any, Any]]:
        """(selection, the type it applies to) for fields, inline fragments and spreads."""
        found: list[tuple[Any, Any]] = []
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (
                    self._context.schema.get_type(condition.name.value) if condition else parent
                )
                found.append((selection, target or parent))
            elif isinstance(selection, FragmentSpreadNode):
                found.append((selection, parent))
        return found

    def depth(self, node: SelectionSetNode, parent: GraphQLNamedType) -> int:
        deepest = 0
        for selection, target in self._fields(node, parent):
            if isinstance(selection, FieldNode):
                below = 0
                field_type = _field_type(target, selection.name.value)
                if selection.selection_set is not None and field_type is not None:
                    below = self.depth(selection.selection_set, get_named_type(field_type))
                elif selection.selection_set is not None:
                    below = self.depth(selection.selection_set, target)
                deepest = max(deepest, 1 + below)
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set, target))
            else:
                deepest = max(deepest, self._spread(selection, target, self.depth, self._depths))
        return deepest

    def cost(self, node: SelectionSetNode, parent: GraphQLNamedType, *, top: bool = False) -> int:
        """The cost of ``node`` for one instance of ``parent``."""
        total = 0
        for selection, target in self._fields(node, parent):
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in ("__schema", "__type"):
                    continue
                total += ROOT_FIELD_COST + 1 if top and name != "__typename" else 1
                field_type = _field_type(target, name)
                if selection.selection_set is None or field_type is None:
                    continue
                factor = self._factor(selection, target, field_type)
                total += factor * self.cost(selection.selection_set, get_named_type(field_type))
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(selection.selection_set, target, top=top)
            elif top:
                total += self._spread(selection, target, self._top_cost, self._top_costs)
            else:
                total += self._spread(selection, target, self.cost, self._costs)
        return total

    def _top_cost(self, node: SelectionSetNode, parent: GraphQLNamedType) -> int:
        return self.cost(node, parent, top=True)

    def introspection_lists(self, node: SelectionSetNode, nested: int) -> int:
        deepest = nested
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is None:
                    continue
                level = nested + (selection.name.value in _INTROSPECTION_LISTS)
                deepest = max(deepest, self.introspection_lists(selection.selection_set, level))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.introspection_lists(selection.selection_set, nested))
            elif isinstance(selection, FragmentSpreadNode):
                key = (selection.name.value, nested)
                if key not in self._lists:
                    fragment = self._fragment(selection.name.value)
                    self._lists[key] = nested
                    if fragment is not None:
                        self._open.add(fragment.name.value)
                        self._lists[key] = self.introspection_lists(fragment.selection_set, nested)
                        self._open.discard(fragment.name.value)
                deepest = max(deepest, self._lists[key])
        return deepest

    def _spread(
        self,
        spread: FragmentSpreadNode,
        parent: GraphQLNamedType,
        measure: Any,
        memo: dict[tuple[str, str], int],
    ) -> int:
        name = spread.name.value
        key = (name, parent.name)
        if key not in memo:
            fragment = self._fragment(name)
            memo[key] = 0
            if fragment is not None:
                condition = self._context.schema.get_type(fragment.type_condition.name.value)
                self._open.add(name)
                memo[key] = measure(fragment.selection_set, condition or parent)
                self._open.discard(name)
        return memo[key]

    def _factor(self, node: FieldNode, parent: GraphQLNamedType, field_type: Any) -> int:
        """How many items of the field's type one instance of ``parent`` may hold."""
        first = self._first(node, parent)
        if first is not None:
            return max(1, min(first, MAX_FIRST))
        if isinstance(_nullable(field_type), GraphQLList):
            # A connection's edges are as many as its `first`, already counted.
            return 1 if parent.name.endswith("Connection") else DEFAULT_LIST_SIZE
        return 1

    def _first(self, node: FieldNode, parent: GraphQLNamedType) -> int | None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return None
        definition = parent.fields.get(node.name.value)
        if definition is None or "first" not in definition.args:
            return None
        value: Any = definition.args["first"].default_value
        for argument in node.arguments:
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self._variables.get(argument.value.name.value, MAX_FIRST)
        return value if isinstance(value, int) and not isinstance(value, bool) else MAX_FIRST


def _nullable(output: Any) -> Any:
    return output.of_type if isinstance(output, GraphQLNonNull) else output


def _field_type(parent: Any, name: str) -> GraphQLOutputType | None:
    if name == "__typename":
        return None
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        definition = parent.fields.get(name)
        if definition is not None:
            found: GraphQLOutputType = definition.type
            return found
    if name in ("__schema", "__type"):
        return _introspection_type(name)
    return None


def _introspection_type(name: str) -> GraphQLOutputType:
    return (SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef).type
