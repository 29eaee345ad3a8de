"""Read models: one module per projection, its tables and one ``apply(batch)``.

The audit log keeps every envelope and the state of its chain; the case history
keeps versioned cases, allegation units, Member State follow-ups and commitments,
which the case file, country record, statistics and transparency-gap queries read;
the ledger keeps the Merkle trees over the log that signed checkpoints cover.
"""

from .audit_log import AuditLogProjection
from .case_history import CaseHistoryProjection
from .ledger import LedgerProjection
from .runner import Projection


def all_projections() -> list[Projection]:
    """Every read model the live projector keeps up to date, in the order they apply."""
    return [AuditLogProjection(), CaseHistoryProjection(), LedgerProjection()]
