"""The ``accountability`` command and its subcommands."""

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from accountability.events.vocabulary import Role

from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("accountability")


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The Kafka clients narrate every connection at INFO.
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from .supervisor import run_embedded

    return run_embedded(settings, demo=args.demo, open_browser=args.open)


def _cmd_broker(settings: Settings, args: argparse.Namespace) -> int:
    from .supervisor import run_broker_only

    return run_broker_only(settings)


def _cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from .worker.main import run_worker

    run_worker(settings)
    return 0


def _cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from .api.app import create_app
    from .kafka import BrokerUnavailable

    app = create_app(settings)
    try:
        app.state.bus.start()  # before serving: a missing broker is one clear line, not a trace
    except BrokerUnavailable as exc:
        print(f"accountability api: {exc}", file=sys.stderr)
        return 1
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level,
        access_log=False,
    )
    return 0


def _cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    from .kafka import BrokerUnavailable, TopicMismatch, ensure_topics

    try:
        ensure_topics(settings)
    except (BrokerUnavailable, TopicMismatch) as exc:
        print(f"accountability topics: {exc}", file=sys.stderr)
        return 1
    print(f"topics ready at {settings.kafka_bootstrap_servers}")
    return 0


def _cmd_credentials(settings: Settings, args: argparse.Namespace) -> int:
    from . import credentials, db

    engine = db.create(settings.database_url)
    db.create_schema(engine)
    try:
        return _credentials(engine, args)
    except credentials.CredentialError as exc:
        print(f"accountability credentials: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _credentials(engine: "Engine", args: argparse.Namespace) -> int:
    from . import credentials

    now = datetime.now(UTC)
    with engine.begin() as conn:
        if args.action == "create":
            role = Role(args.role)
            principal_id = args.principal_id or (
                f"{role.value}-{args.country}" if args.country else f"{role.value}-{args.name}"
            ).lower().replace(" ", "-")
            principal = credentials.ensure_principal(
                conn,
                principal_id=principal_id,
                name=args.name,
                role=role,
                member_state=args.country,
                now=now,
            )
            valid_for = timedelta(days=args.expires_in_days) if args.expires_in_days else None
            issued = credentials.issue(conn, principal, args.label or args.name, now, valid_for)
            print(
                f"principal:  {principal.principal_id} ({principal.role.value}"
                f"{' of ' + principal.member_state if principal.member_state else ''})"
            )
            print(
                f"credential: {issued.credential_id}"
                f"{' expires ' + issued.expires_at.isoformat() if issued.expires_at else ''}"
            )
            print(f"token:      {issued.token}")
            print("Keep the token secret: it is shown once and stored only as a hash.")
        elif args.action == "list":
            for info in credentials.list_credentials(conn):
                state = (
                    "revoked"
                    if info.revoked_at
                    else ("expired" if info.expires_at and info.expires_at <= now else "active")
                )
                print(
                    f"{info.credential_id}  {state:8}  {info.principal.principal_id:24} "
                    f"{info.principal.role.value:13} {info.principal.member_state or '-':4} "
                    f"{info.label}"
                )
        elif args.action == "revoke":
            if not credentials.revoke(conn, args.credential_id, now):
                print(f"no active credential '{args.credential_id}'", file=sys.stderr)
                return 1
            print(f"revoked {args.credential_id}")
    return 0


def _cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from accountability.events.codec import parse_instant
    from accountability.events.errors import DecodeError
    from accountability.projections import all_projections

    from . import db
    from .blue_green import RebuildRefused, rebuild_beside
    from .progress import ProgressBar
    from .rebuild import rebuild_into
    from .stream_rebuild import rebuild_stream

    known = {p.name: p for p in all_projections()}
    unknown = sorted(set(args.projection or ()) - known.keys())
    if unknown:
        print(f"unknown projection {unknown[0]!r} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    chosen = [known[n] for n in args.projection] if args.projection else None
    stream = args.stream or (f"case:{args.case}" if args.case else None)
    if args.as_of is not None and args.into is None:
        print("--as-of rebuilds into a separate database: give --into URL", file=sys.stderr)
        return 2
    if stream is not None and args.into is not None:
        print("--stream/--case rebuild the live read models: leave out --into", file=sys.stderr)
        return 2
    if args.into is not None and db.same_database(args.into, settings.database_url):
        print("--into names the live database: give another one", file=sys.stderr)
        return 2
    try:
        as_of = None if args.as_of is None else parse_instant(args.as_of, "--as-of")
    except DecodeError as exc:
        print(f"--as-of: {exc}", file=sys.stderr)
        return 2
    bootstrap, partitions = settings.kafka_bootstrap_servers, settings.topic_partitions
    bar = None if args.quiet else ProgressBar("rebuild")
    target = args.into or settings.database_url
    engine = db.create(target)
    try:
        db.create_schema(engine)
        if stream is not None:
            one = rebuild_stream(engine, bootstrap, partitions, stream, projections=chosen)
            print(
                f"rebuilt {one.stream_id} in {', '.join(one.projections)} from {one.events} "
                f"events of partition {one.partition}"
                + (f" ({', '.join(one.skipped)} keep no rows per stream)" if one.skipped else "")
            )
            return 0
        if args.into is not None:
            copy = rebuild_into(
                engine, bootstrap, partitions, projections=chosen, until=as_of, progress=bar
            )
            if bar is not None:
                bar.finish(copy.events)
            when = "" if as_of is None else f" as of {args.as_of}"
            print(f"rebuilt {copy.events} events{when} into a separate database "
                  f"in {copy.seconds:.1f}s ({copy.events_per_second:,.0f} events/s)")  # fmt: skip
            return 0
        report = rebuild_beside(engine, bootstrap, partitions, projections=chosen, progress=bar)
    except RebuildRefused as exc:
        print(f"rebuild refused: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if bar is not None:
        bar.finish(report.filled.events)
    print(
        f"rebuilt {', '.join(report.projections)} beside the live tables from "
        f"{report.filled.events} events in {report.filled.seconds:.1f}s "
        f"({report.filled.events_per_second:,.0f} events/s), then switched after catching up "
        f"{report.caught_up} more; readers were held off for {report.switch_seconds * 1000:.0f} ms"
    )
    return 0


def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from .demo import load_demo_into_running_stack

    return load_demo_into_running_stack(settings)


def _cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from .importer import run_import

    return run_import(settings, Path(args.file), dry_run=args.dry_run, fmt=args.format)


def _cmd_schema(settings: Settings, args: argparse.Namespace) -> int:
    from .schemas import check_or_write

    return check_or_write(write=args.write)


def _cmd_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    from .ledger_cli import cmd_checkpoint

    return cmd_checkpoint(settings)


def _cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from .ledger_cli import cmd_export

    return cmd_export(settings, args.output)


def _cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from .ledger_cli import cmd_verify

    return cmd_verify(settings, args.bundle, args.live)


def _cmd_sign(settings: Settings, args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .signatures import SigningError, sign_file, statement_note

    try:
        signed = sign_file(Path(args.key), Path(args.command_file))
    except SigningError as exc:
        print(f"accountability sign: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(signed.to_input(), indent=2))
    print(statement_note(signed), file=sys.stderr)
    return 0


def _cmd_keys(settings: Settings, args: argparse.Namespace) -> int:
    from . import db, keys

    engine = db.create(settings.database_url)
    db.create_schema(engine)
    try:
        with engine.begin() as conn:
            destroyed = keys.sweep(conn, datetime.now(UTC))
    finally:
        engine.dispose()
    print(f"destroyed the keys of {len(destroyed)} erased case(s)" if destroyed else
          "every erased case's key is already destroyed")  # fmt: skip
    return 0


def _cmd_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    from .dead_letters import cmd_list, cmd_replay

    if args.action == "list":
        return cmd_list(settings, open_only=not args.every, limit=args.limit)
    if (args.id is None) == (not args.all):
        print("accountability dead-letters replay: give a letter ID or --all", file=sys.stderr)
        return 2
    return cmd_replay(settings, args.id)


def _cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from .bench import Plan, run_bench

    sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    if not sizes or min(sizes) < 1_000:
        print("bench: --sizes takes event counts of 1000 or more, e.g. 10000,100000")
        return 2
    if min(args.repeats, args.large_repeats, args.clients, args.rounds, args.queries) < 1:
        print("bench: --repeats, --large-repeats, --clients, --rounds, --queries: 1 or more")
        return 2
    plan = Plan(
        sizes=sizes, cases=args.cases, repeats=args.repeats, clients=args.clients,
        large_repeats=args.large_repeats,
        rounds=args.rounds, decider_cases=args.decider_cases, peer_cases=args.peer_cases,
        queries=args.queries, baseline_events=min(args.baseline_events, sizes[-1]),
    )  # fmt: skip
    command = " ".join(["accountability", *sys.argv[1:]])
    return run_bench(settings, plan, output=args.output, command=command)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accountability",
        description="Event-sourced accountability tracker for SEA allegations (UN personnel).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start broker, worker and API on SQLite (embedded default)")
    run.add_argument("--demo", action="store_true", help="load the demo dataset once started")
    run.add_argument("--open", action="store_true", help="open GraphiQL in a browser")
    run.set_defaults(handler=_cmd_run)

    sub.add_parser("broker", help="run only the embedded broker, restoring its log").set_defaults(
        handler=_cmd_broker
    )
    sub.add_parser("worker", help="run the decider and projectors (Faust)").set_defaults(
        handler=_cmd_worker
    )
    sub.add_parser("api", help="run the GraphQL API").set_defaults(handler=_cmd_api)
    topics = sub.add_parser("topics", help="create the topics with their properties")
    topics.set_defaults(handler=_cmd_topics)

    creds = sub.add_parser("credentials", help="create, list or revoke bearer credentials")
    creds_sub = creds.add_subparsers(dest="action", required=True)
    create = creds_sub.add_parser("create", help="create a principal's credential")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True, help="who holds it, e.g. 'Conduct officer'")
    create.add_argument("--country", help="ISO 3166-1 alpha-3, for the member_state role")
    create.add_argument("--principal-id", help="defaults to <role>-<country or name>")
    create.add_argument("--label", help="what the credential is for")
    create.add_argument(
        "--expires-in-days", type=_positive_int, metavar="N", help="default: never expires"
    )
    creds_sub.add_parser("list", help="list credentials (never their secrets)")
    revoke = creds_sub.add_parser("revoke", help="revoke a credential at once")
    revoke.add_argument("credential_id")
    creds.set_defaults(handler=_cmd_credentials)

    rebuild = sub.add_parser(
        "rebuild",
        help="rebuild read models from offset 0 beside the live ones, then switch atomically",
    )
    rebuild.add_argument(
        "--projection", action="append", metavar="NAME",
        help="only this read model (repeatable): audit_log, case_history, ledger",
    )  # fmt: skip
    one = rebuild.add_mutually_exclusive_group()
    one.add_argument("--stream", help="rebuild one stream in place (case:<id> or state:<ISO3>)")
    one.add_argument("--case", help="rebuild one case in place (same as --stream case:<id>)")
    rebuild.add_argument(
        "--into", metavar="URL", help="rebuild into this separate database instead (a copy)"
    )
    rebuild.add_argument(
        "--as-of", metavar="INSTANT",
        help="with --into: only the events recorded up to this ISO 8601 instant",
    )  # fmt: skip
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.set_defaults(handler=_cmd_rebuild)
    sub.add_parser("demo", help="load the demo dataset into a running stack").set_defaults(
        handler=_cmd_demo
    )
    imp = sub.add_parser("import", help="import historical allegations, one row per allegation")
    imp.add_argument("file", help="a .csv or .ndjson file (docs/import.md)")
    imp.add_argument("--dry-run", action="store_true", help="check every row; write nothing")
    imp.add_argument("--format", choices=["csv", "ndjson"], help="default: from the file's suffix")
    imp.set_defaults(handler=_cmd_import)

    schema = sub.add_parser("schema", help="check (or --write) schema.graphql and JSON Schemas")
    schema.add_argument("--write", action="store_true")
    schema.set_defaults(handler=_cmd_schema)

    sub.add_parser("checkpoint", help="sign and publish a checkpoint of the log now").set_defaults(
        handler=_cmd_checkpoint
    )
    export = sub.add_parser("export", help="write a bundle for oversight bodies (tar.gz)")
    export.add_argument("output", help="the bundle's path, e.g. bundle.tar.gz")
    export.set_defaults(handler=_cmd_export)
    verify = sub.add_parser("verify", help="verify chains, Merkle trees, checkpoints, proofs")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--bundle", help="a bundle written by `accountability export`")
    source.add_argument("--live", action="store_true", help="the live log and this database")
    verify.set_defaults(handler=_cmd_verify)

    sign = sub.add_parser(
        "sign", help="sign a command file with a Member State's Ed25519 key (prints the input)"
    )
    sign.add_argument("--key", required=True, help="the state's private key (PEM, PKCS #8)")
    sign.add_argument(
        "--command", dest="command_file", required=True,
        help="JSON: {command_id, type, stream_id, occurred_at, payload}",
    )  # fmt: skip
    sign.set_defaults(handler=_cmd_sign)
    keys = sub.add_parser("keys", help="the per-case key store")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("sweep", help="destroy every key whose case's erasure is recorded")
    keys.set_defaults(handler=_cmd_keys)

    letters = sub.add_parser("dead-letters", help="list or replay events a read model refused")
    letters_sub = letters.add_subparsers(dest="action", required=True)
    listing = letters_sub.add_parser("list", help="open dead letters, oldest first")
    listing.add_argument("--every", action="store_true", help="replayed ones too")
    listing.add_argument("--limit", type=int, default=100)
    again = letters_sub.add_parser(
        "replay", help="apply again, once fixed: a letter's stream from its first open letter"
    )
    again.add_argument("id", nargs="?", type=int, help="a dead letter's id (from list)")
    again.add_argument("--all", action="store_true", help="every stream with an open letter")
    letters.set_defaults(handler=_cmd_dead_letters)

    bench = sub.add_parser("bench", help="run the benchmarks and write docs/benchmarks.md")
    defaults = "10000,100000,1000000"
    bench.add_argument("--sizes", default=defaults, help=f"log sizes in events ({defaults})")
    bench.add_argument("--cases", type=int, default=100_000, help="cases in the largest log")
    bench.add_argument("--repeats", type=int, default=3, help="runs of each measure")
    bench.add_argument(
        "--large-repeats", type=int, default=1, help="runs of each rebuild of the largest log"
    )
    bench.add_argument("--clients", type=int, default=50, help="concurrent submitting clients")
    bench.add_argument("--rounds", type=int, default=20, help="submissions per client per run")
    bench.add_argument("--decider-cases", type=int, default=1_500)
    bench.add_argument("--peer-cases", type=int, default=1_000)
    bench.add_argument("--queries", type=int, default=500, help="requests per query per run")
    bench.add_argument("--baseline-events", type=int, default=5_000)
    bench.add_argument("--output", default="docs/benchmarks.md")
    bench.set_defaults(handler=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"accountability: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings)
    try:
        return int(args.handler(settings, args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
