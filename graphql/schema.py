"""The GraphQL schema and its SDL, which is checked in as ``schema.graphql``."""

from pathlib import Path
from typing import Final

import graphene

from .access_log import AccessLogQuery
from .ledger import LedgerQuery
from .mutations import Mutation as CommandMutation
from .operations import OperationsMutation, OperationsQuery
from .queries import Query as CaseQuery
from .subscriptions import Subscription

SDL_PATH: Final = Path(__file__).with_name("schema.graphql")


class Query(CaseQuery, LedgerQuery, AccessLogQuery, OperationsQuery):
    """Every query: records, cases, statistics, the audit trail, the ledger's proofs and
    the access log; dead letters and freshness."""


class Mutation(CommandMutation, OperationsMutation):
    """Every command, and the replay of dead letters."""


def build_schema() -> graphene.Schema:
    return graphene.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, auto_camelcase=True
    )


def sdl(schema: graphene.Schema | None = None) -> str:
    """The schema in SDL, as written to ``schema.graphql``."""
    return str(schema or build_schema()).rstrip() + "\n"
