"""Peak memory of a real server streaming GET /v1/export, for 10,000 and 100,000 rows.

For each size: a temporary SQLite database made by the migrations, N synthetic organizations
(one in five with a parent, so the parents-first ordering runs too) and one citation each,
bulk-inserted with executemany; a uvicorn server on it in a subprocess; the export streamed and
counted chunk by chunk (never held); then the server's peak resident memory (VmHWM in
/proc/PID/status). The growth from the smallest to the largest size must stay under
--max-growth-mb (30 by default), else the exit status is 1.

    .venv/bin/python -m bench.export_memory               # 10000 and 100000 rows
    .venv/bin/python -m bench.export_memory --rows 1000 10000 100000 200000
    .venv/bin/python -m bench.export_memory --path '/v1/organizations?format=csv'
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlmodel import Session

from app.config import ROOT, Settings
from app.db import make_engine
from app.migrate import upgrade
from app.models import Citation, Document, Organization

_CHUNK = 10_000
_QUOTE = "Synthetic"


@dataclass(frozen=True)
class Result:
    rows: int
    lines: int
    megabytes: float
    seconds: float
    hwm_before_mb: float
    hwm_after_mb: float


def _organization(i: int) -> dict[str, Any]:
    return {
        "id": f"org-{i:07d}",
        "name": f"Organization {i}",
        "aliases": [f"Org {i}", f"Organisation {i}"],
        "kind": "company",
        "country": "US",
        "city": "Somewhere",
        "parent_id": f"org-{i - 1:07d}" if i % 10 in (1, 2) else None,
        "description": "A synthetic organization for the export memory benchmark.",
        "disputed": False,
        "search_text": f"organization {i}|org {i}|organisation {i}",
    }


def _citation(i: int) -> dict[str, Any]:
    return {
        "entity_type": "organization",
        "entity_id": f"org-{i:07d}",
        "position": 0,
        "document_id": "synthetic",
        "quote": _QUOTE,
        "start": 0,
        "end": len(_QUOTE),
        "field": None,
        "stance": "support",
        "attributed_to": None,
        "note": None,
    }


def make_database(url: str, rows: int) -> None:
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade(engine)
        with Session(engine) as session:
            text = f"{_QUOTE} text."
            sha256 = hashlib.sha256(text.encode()).hexdigest()
            session.add(
                Document(id="synthetic", title="Synthetic", language="en", sha256=sha256, text=text)
            )
            session.commit()
        with engine.begin() as conn:
            for start in range(0, rows, _CHUNK):
                stop = min(rows, start + _CHUNK)
                conn.execute(insert(Organization), [_organization(i) for i in range(start, stop)])
                conn.execute(insert(Citation), [_citation(i) for i in range(start, stop)])
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hwm_mb(pid: int) -> float:
    """The peak resident set size of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def measure(rows: int, workdir: Path, path: str = "/v1/export") -> Result:
    url = f"sqlite:///{workdir / f'export-{rows}.db'}"
    make_database(url, rows)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                raise RuntimeError("the server did not start")
            # Warm up: the first request imports and compiles what every request uses.
            client.get("/v1/organizations?limit=5").raise_for_status()
            before = _hwm_mb(server.pid)
            lines = size = 0
            started = time.perf_counter()
            with client.stream("GET", path) as response:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    lines += chunk.count(b"\n")
                    size += len(chunk)
            seconds = time.perf_counter() - started
            after = _hwm_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Result(rows, lines, size / 2**20, seconds, before, after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--max-growth-mb", type=float, default=30.0)
    parser.add_argument(
        "--path",
        default="/v1/export",
        help="what to stream, e.g. '/v1/organizations?format=csv' (a list's CSV export)",
    )
    args = parser.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory(prefix="aifacts-export-memory-") as tmp:
        for rows in sorted(args.rows):
            result = measure(rows, Path(tmp), args.path)
            # /v1/export: header, one document, the organizations, footer; a CSV list: header
            # and the organizations (no line breaks inside the synthetic values).
            expected = rows + 3 if args.path == "/v1/export" else rows + 1
            assert result.lines == expected, result
            results.append(result)
            print(
                f"{result.rows:>8} rows  {result.lines:>8} lines  {result.megabytes:7.1f} MiB"
                f"  {result.seconds:6.2f} s  server peak RSS {result.hwm_before_mb:6.1f} MiB"
                f" before, {result.hwm_after_mb:6.1f} MiB after the export",
                flush=True,
            )
    growth = results[-1].hwm_after_mb - results[0].hwm_after_mb
    verdict = "ok" if growth < args.max_growth_mb else "FAIL"
    print(
        f"peak RSS growth from {results[0].rows} to {results[-1].rows} rows:"
        f" {growth:+.1f} MiB (limit {args.max_growth_mb:.0f} MiB): {verdict}"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
