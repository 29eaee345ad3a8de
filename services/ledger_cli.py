"""The ledger's subcommands: ``checkpoint``, ``export`` and ``verify``.

Each takes the settings and returns the process's exit code: 0 when all is well, 1
when the ledger or the log has a problem (named on stderr), 2 when the command
cannot run as asked.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from accountability.projections import ledger

from . import db
from .bundle import BundleError, ExportError, export_bundle
from .checkpoints import CheckpointError, default_key_path, public_key_pem, publish_checkpoint
from .settings import Settings
from .verify import verify_bundle
from .verify_live import verify_live


def cmd_checkpoint(settings: Settings) -> int:
    """Sign the ledger's current trees as the next checkpoint and print it."""
    engine = db.create(settings.database_url)
    try:
        db.create_schema(engine)
        key_path = default_key_path(settings)
        try:
            checkpoint = publish_checkpoint(
                engine, key_path, datetime.now(UTC), partitions=settings.topic_partitions
            )
        except (CheckpointError, ledger.LedgerError) as exc:
            print(f"accountability checkpoint: {exc}", file=sys.stderr)
            return 1
        with engine.connect() as conn:
            holes = ledger.gaps(conn)
    finally:
        engine.dispose()
    sizes = ", ".join(f"{h.partition}:{h.size}" for h in checkpoint.partitions)
    print(f"checkpoint {checkpoint.checkpoint_id} at {checkpoint.created_at.isoformat()}")
    print(f"  log root  {checkpoint.log_root.hex()}")
    print(f"  sizes     {sizes} (partition:events)")
    print(f"  key       {checkpoint.key_id} ({key_path})")
    for gap in holes:
        print(
            f"accountability checkpoint: partition {gap.partition} stops at offset "
            f"{gap.expected_offset}: the ledger next saw offset {gap.found_offset} "
            "(an undecodable record, or a ledger started mid-log); rebuild the read models",
            file=sys.stderr,
        )
    return 1 if holes else 0


def cmd_export(settings: Settings, output: str) -> int:
    """Write the export bundle for oversight bodies to ``output`` (a .tar.gz)."""
    engine = db.create(settings.database_url, writer=False)  # a long read blocks no writer
    try:
        db.create_schema(engine)
        report = export_bundle(engine, Path(output), default_key_path(settings))
    except ExportError as exc:
        print(f"accountability export: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(
        f"wrote {report.path}: {report.events:,} events, {report.checkpoints} checkpoints "
        f"in {report.seconds:.1f}s"
    )
    if report.missing:
        shown = ", ".join(f"{p}/{o}" for p, o in report.first_missing[:10])
        print(
            f"accountability export: {report.missing} offsets of the log have no stored bytes "
            f"(partition/offset: {shown}…); `accountability verify --live` reads the log itself",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_verify(settings: Settings, bundle: str | None, live: bool) -> int:
    """Verify an export bundle (``bundle``) or the live log (``live``); exactly one."""
    if (bundle is None) == (not live):
        print("accountability verify: give either --bundle PATH or --live", file=sys.stderr)
        return 2
    if bundle is not None:
        try:
            report = verify_bundle(Path(bundle))
        except BundleError as exc:
            print(f"accountability verify: {exc}", file=sys.stderr)
            return 2
    else:
        engine = db.create(settings.database_url, writer=False)
        try:
            key_path = default_key_path(settings)
            pem = public_key_pem(key_path) if key_path.exists() else None
            report = verify_live(
                engine, settings.kafka_bootstrap_servers, settings.topic_partitions, pem
            )
        finally:
            engine.dispose()
    print(report.render())
    return 0 if report.ok else 1
