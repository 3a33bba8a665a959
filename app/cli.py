"""Command line: `python -m app.cli migrate | seed | serve`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlmodel import Session, select

from app.config import get_settings
from app.db import make_engine
from app.migrate import upgrade
from app.models import Organization
from app.seeding.loader import SEED_DIR, SeedError, load_seed, read_seed

console = Console(stderr=True)


def _migrate() -> int:
    engine = make_engine(get_settings())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print("[green]database migrated to head[/green]")
    return 0


def _seed(seed_dir: Path, if_empty: bool) -> int:
    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
            if if_empty and session.exec(select(Organization.id).limit(1)).first():
                console.print("database already seeded; nothing to do")
                return 0
            try:
                data = read_seed(seed_dir)
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task("seeding", total=data.size)
                    summary = load_seed(session, data, advance=lambda: progress.advance(task))
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


def _serve(workers: int) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.asgi:app",
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aifacts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every Alembic migration (upgrade head)")
    seed = commands.add_parser("seed", help="load the curated seed (idempotent)")
    seed.add_argument("--dir", type=Path, default=SEED_DIR, help="seed folder")
    seed.add_argument("--if-empty", action="store_true", help="only when no data is loaded")
    serve = commands.add_parser("serve", help="serve the API with uvicorn (HOST, PORT)")
    serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return _migrate()
    if args.command == "seed":
        return _seed(args.dir, args.if_empty)
    return _serve(args.workers)


if __name__ == "__main__":
    sys.exit(main())
