"""Per-request cost of the app itself: requests driven straight into the ASGI app, no server.

    DATABASE_URL=sqlite:///bench/results/bench-seed.db \\
        .venv/bin/python -m bench.inprocess '/v1/models?developer_id=deepseek&limit=20' \\
        [--requests 2000] [--concurrency 8] [--no-cache] [--profile]

Prints microseconds of CPU per request through every middleware, routing, validation, the
query and the encoding; `--profile` adds the functions that took the most time (cProfile,
cumulative). Use it to see where a request's time goes before and after a change; use
`bench.run` for throughput under load.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from collections.abc import MutableMapping
from typing import Any

from app.config import Settings
from app.main import create_app


async def drive(path: str, requests: int, concurrency: int, settings: Settings) -> float:
    app = create_app(settings)
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await startup.put({"type": "lifespan.startup"})
    lifespan_sent: list[MutableMapping[str, Any]] = []

    async def lifespan_receive() -> dict[str, Any]:
        return await startup.get()

    async def lifespan_send(message: MutableMapping[str, Any]) -> None:
        lifespan_sent.append(message)

    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan_receive, lifespan_send)
    )
    while not lifespan_sent:
        await asyncio.sleep(0.01)

    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def one() -> None:
        await app(dict(scope), receive, send)

    for _ in range(100):  # warm caches of SQLAlchemy, pydantic and the app
        await one()
    started = time.process_time()
    for _ in range(requests // concurrency):
        await asyncio.gather(*(one() for _ in range(concurrency)))
    spent = time.process_time() - started
    await startup.put({"type": "lifespan.shutdown"})
    await lifespan
    if statuses != {200}:
        raise SystemExit(f"unexpected statuses {sorted(statuses)}")
    return spent / (requests // concurrency * concurrency) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("path", help="a GET path with its query string")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-cache", action="store_true", help="without the response cache")
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args(argv)
    settings = Settings(response_cache_enabled=not args.no_cache, log_level="warning")
    run = drive(args.path, args.requests, args.concurrency, settings)
    if args.profile:
        profiler = cProfile.Profile()
        micros = profiler.runcall(asyncio.run, run)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(
            r"(app|fastapi|sqlalchemy)/", 40
        )
    else:
        micros = asyncio.run(run)
    print(f"{args.path}: {micros:.0f} us of CPU per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
