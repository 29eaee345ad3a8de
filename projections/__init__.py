"""Read models: one module per projection, its tables and one ``apply(batch)``."""

from .audit_log import AuditLogProjection
from .case_file import CaseFileProjection
from .country_record import CountryRecordProjection
from .runner import Projection


def all_projections() -> list[Projection]:
    """Every read model the live projector keeps up to date, in the order they apply."""
    return [AuditLogProjection(), CaseFileProjection(), CountryRecordProjection()]
