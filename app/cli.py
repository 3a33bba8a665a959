"""Command line: `python -m app.cli migrate | seed | serve | start | keys`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from app.auth.service import SCOPES, create_key, list_keys, revoke_key
from app.config import Settings, get_settings
from app.db import make_engine
from app.migrate import upgrade
from app.models import Organization
from app.ops.logging import configure_logging, log_config
from app.seeding.loader import (
    SEED_DIR,
    SeedError,
    check_export,
    load_export,
    load_seed,
    read_seed,
)

console = Console(stderr=True)
log = logging.getLogger("aifacts.cli")

# Replicas starting together on one PostgreSQL seed one at a time: the others then find data.
_SEED_LOCK = 7_214_992_332


def _migrate() -> int:
    engine = make_engine(get_settings())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print("[green]database migrated to head[/green]")
    return 0


def _holds_data(session: Session) -> bool:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
    return session.exec(select(Organization.id).limit(1)).first() is not None


def _seed(seed_dir: Path, if_empty: bool, export: Path | None = None) -> int:
    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
            if if_empty and _holds_data(session):
                console.print("database already seeded; nothing to do")
                return 0
            try:
                with Progress(console=console, transient=True) as progress:
                    if export is None:
                        data = read_seed(seed_dir)
                        task = progress.add_task("seeding", total=data.size)
                        summary = load_seed(session, data, advance=lambda: progress.advance(task))
                    else:
                        # Validated whole before the first write; one transaction.
                        total = sum(check_export(export).values())
                        task = progress.add_task("loading the export", total=total)
                        summary = load_export(
                            session,
                            export,
                            advance=lambda: progress.advance(task),
                            checked=True,
                        )
            except SeedError as exc:
                session.rollback()
                console.print(
                    f"seed rejected, nothing written:\n{exc}", markup=False, soft_wrap=True
                )
                return 1
            session.commit()
    finally:
        engine.dispose()
    table = Table(title="seed")
    for column in ("collection", "created", "updated", "unchanged"):
        table.add_column(column)
    for name in ("documents", "organizations", "chips", "models", "chip_support", "investments"):
        counts = {outcome: n for (coll, outcome), n in summary.items() if coll == name}
        table.add_row(
            name,
            *(str(counts.get(o, 0)) for o in ("created", "updated", "unchanged")),  # type: ignore[call-overload]
        )
    console.print(table)
    return 0


def _keys(args: argparse.Namespace) -> int:
    """`keys create NAME --scope ...` (prints the key once), `keys list`, `keys revoke ID`."""
    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
            if args.keys_command == "create":
                try:
                    row, key = create_key(session, name=args.name, scopes=args.scope or ["write"])
                except ValueError as exc:
                    console.print(str(exc), markup=False)
                    return 2
                session.commit()
                console.print(
                    f"key {row.id!r} ({row.name}, scopes {','.join(row.scopes)}); it is shown"
                    " only now:",
                    markup=False,
                )
                print(key)
                return 0
            if args.keys_command == "list":
                table = Table(title="API keys")
                for column in ("id", "name", "scopes", "created", "revoked"):
                    table.add_column(column)
                for row in list_keys(session):
                    table.add_row(
                        row.id,
                        row.name,
                        ",".join(row.scopes),
                        f"{row.created_at:%Y-%m-%d %H:%M:%S}",
                        f"{row.revoked_at:%Y-%m-%d %H:%M:%S}" if row.revoked_at else "",
                    )
                console.print(table)
                return 0
            if not revoke_key(session, args.id):
                console.print(f"no key {args.id!r}", markup=False)
                return 1
            session.commit()
            console.print(f"key {args.id!r} revoked", markup=False)
            return 0
    finally:
        engine.dispose()


def _exit_cleanly(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _serve(settings: Settings, workers: int) -> int:
    import uvicorn

    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; with the
    # default handler that ends the process with 143, so a clean stop would look like a crash.
    # This handler also stops the process at once if the signal comes before uvicorn's own.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    uvicorn.run(
        "app.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config(settings),
        # The app logs each request itself, without the query string uvicorn's line has.
        access_log=False,
        server_header=False,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
        # Reads run on the event loop: under load, uvloop let some connections wait ten times
        # the median (p99 0.6-0.9 s against 0.16 s with asyncio's loop, docs/benchmarks.md).
        loop="asyncio",
    )
    return 0


def _start(settings: Settings) -> int:
    """Migrate, seed an empty database when SEED_ON_START is set, serve WORKERS workers."""
    configure_logging(settings)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        log.info("database migrated to head")
        if settings.seed_on_start and not _seed_quietly(engine):
            return 1
    finally:
        engine.dispose()
    return _serve(settings, settings.workers)


def _seed_quietly(engine: Engine) -> bool:
    """`seed --if-empty`, reported as log lines (the container's logs are JSON)."""
    with Session(engine) as session:
        if _holds_data(session):
            log.info("database already holds data; seed skipped")
            return True
        try:
            summary = load_seed(session, read_seed())
        except SeedError as exc:
            log.error("seed rejected, nothing written: %s", exc)
            return False
        session.commit()
    created = sum(n for (_, outcome), n in summary.items() if outcome == "created")
    log.info("seed loaded: %d items created", created, extra={"items_created": created})
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aifacts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every Alembic migration (upgrade head)")
    seed = commands.add_parser("seed", help="load the curated seed (idempotent)")
    source = seed.add_mutually_exclusive_group()
    source.add_argument("--dir", type=Path, default=SEED_DIR, help="seed folder")
    seed.add_argument("--if-empty", action="store_true", help="only when no data is loaded")
    source.add_argument(
        "--from-export",
        type=Path,
        metavar="FILE",
        help="load an export (GET /v1/export, NDJSON) instead of the seed folder",
    )
    serve = commands.add_parser("serve", help="serve the API with uvicorn (HOST, PORT)")
    serve.add_argument("--workers", type=int, default=None, help="default: WORKERS (1)")
    commands.add_parser(
        "start",
        help="migrate, seed when SEED_ON_START and empty, serve (the container's entry point)",
    )
    keys = commands.add_parser("keys", help="API keys for the write API")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="make a key (printed once, on stdout)")
    create.add_argument("name", help="who or what uses the key (recorded in the history)")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        help="read, write or admin (repeatable; default: write)",
    )
    key_commands.add_parser("list", help="list keys (never the secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", help="the key's id (the 8 characters after `af_`)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "migrate":
        return _migrate()
    if args.command == "seed":
        return _seed(args.dir, args.if_empty, args.from_export)
    if args.command == "keys":
        return _keys(args)
    if args.command == "start":
        return _start(settings)
    return _serve(settings, args.workers or settings.workers)


if __name__ == "__main__":
    sys.exit(main())
