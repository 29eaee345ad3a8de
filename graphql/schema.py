"""The GraphQL schema and its SDL, which is checked in as ``schema.graphql``."""

from pathlib import Path
from typing import Final

import graphene

from .ledger import LedgerQuery
from .mutations import Mutation
from .queries import Query as CaseQuery

SDL_PATH: Final = Path(__file__).with_name("schema.graphql")


class Query(CaseQuery, LedgerQuery):
    """Every query: records, cases, statistics, the audit trail and the ledger's proofs."""


def build_schema() -> graphene.Schema:
    return graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=True)


def sdl(schema: graphene.Schema | None = None) -> str:
    """The schema in SDL, as written to ``schema.graphql``."""
    return str(schema or build_schema()).rstrip() + "\n"
