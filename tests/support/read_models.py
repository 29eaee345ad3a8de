"""Apply records to the read models and compare them, for the contract tests."""

from typing import Any

from sqlalchemy import Engine, select

from accountability.projections import all_projections
from accountability.projections.runner import RawRecord, apply_batch
from accountability.projections.sql import metadata


def apply(engine: Engine, records: list[RawRecord], batch: int = 1000) -> None:
    for start in range(0, len(records), batch):
        with engine.begin() as conn:
            apply_batch(conn, all_projections(), records[start : start + batch])


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, without the bookkeeping instants.

    Positions are compared for the read models only: the worker also runs projections
    without tables (the key shredder), whose checkpoints a rebuild has no reason to make.
    """
    read_models = [p.name for p in all_projections()]
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in {"updated_at", "seen_at"}]
            query = select(*columns)
            if "projection" in table.c:
                query = query.where(table.c.projection.in_(read_models))
            rows = conn.execute(query).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables
