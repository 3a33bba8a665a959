"""Load benchmark: our service against two references measured in the same run.

    .venv/bin/python -m bench.run [--database-url URL] [--duration 8] [--connections 32]

Starts each server (ours, the usual FastAPI + SQLModel baseline, and FastAPI returning a
fixed list) with uvicorn on loopback, warms it, drives each request kind with wrk, and
reports requests/s and p50/p99 latency, with our figures as ratios to both references.
Every server it starts is stopped, and every run is bounded in time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results"


@dataclass
class Result:
    server: str
    kind: str
    path: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(app: str, database_url: str, workers: int) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "warning"}
    command = [
        PYTHON,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unparsed latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str, *, duration: int, connections: int, threads: int
) -> tuple[float, float, float, int]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(
        int(m.group(1))
        for m in re.finditer(
            r"(?:Non-2xx or 3xx responses|Socket errors:.*?timeout)\s*:?\s*(\d+)", output
        )
    )
    return rps, p50, p99, errors


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def our_kinds(base: str) -> dict[str, str]:
    """Realistic requests, built from what the database holds."""
    first = get_json(f"{base}/v1/models?limit=20")
    model_id = first["data"][0]["id"]
    developer = next((m["developer_id"] for m in first["data"] if m["developer_id"]), "deepseek")
    kinds = {
        "filtered_list": f"/v1/models?developer_id={developer}&limit=20",
        "get_by_id": f"/v1/models/{model_id}",
        "search": "/v1/models?q=deep&limit=20",
        "list_include": "/v1/models?include=developer,citations&limit=20",
        "second_page": "/v1/models?limit=20&cursor="
        + urllib.parse.quote(first["next_cursor"] or ""),
        "csv_export": "/v1/chips?format=csv",
    }
    try:
        get_json(f"{base}/v1/search?q=deepsek")
        kinds["search"] = "/v1/search?q=deepsek"
    except OSError:
        pass
    return kinds


def prepare_seeded_sqlite() -> str:
    """A fresh SQLite database made by the migrations and loaded with the seed."""
    path = RESULTS / "bench.db"
    RESULTS.mkdir(exist_ok=True)
    for stale in RESULTS.glob("bench.db*"):
        stale.unlink()
    url = f"sqlite:///{path}"
    env = {**os.environ, "DATABASE_URL": url}
    for command in (["migrate"], ["seed"]):
        subprocess.run(
            [PYTHON, "-m", "app.cli", *command],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="the database to serve (default: a fresh seeded SQLite under bench/results/)",
    )
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--kinds", help="comma-separated subset of request kinds")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    database_url = args.database_url or prepare_seeded_sqlite()
    load = {"duration": args.duration, "connections": args.connections, "threads": args.threads}
    results: list[Result] = []

    def measure(server_name: str, base: str, kind: str, path: str) -> Result:
        wrk(base + path, duration=args.warmup, connections=args.connections, threads=args.threads)
        rps, p50, p99, errors = wrk(base + path, **load)
        result = Result(server_name, kind, path, rps, p50, p99, errors)
        print(
            f"{server_name:9} {kind:14} {rps:10.0f} req/s  p50 {p50:7.2f} ms  "
            f"p99 {p99:7.2f} ms  errors {errors}",
            flush=True,
        )
        return result

    with server("app.asgi:app", database_url, args.workers) as base:
        kinds = our_kinds(base)
        if args.kinds:
            kinds = {k: v for k, v in kinds.items() if k in args.kinds.split(",")}
        filtered = kinds.get("filtered_list", "/v1/models?limit=20")
        for kind, path in kinds.items():
            results.append(measure("ours", base, kind, path))
    with server("bench.baseline_app:app", database_url, args.workers) as base:
        results.append(measure("baseline", base, "filtered_list", filtered))
        model_path = kinds.get("get_by_id")
        if model_path:
            results.append(measure("baseline", base, "get_by_id", model_path))
    with server("bench.fixed_app:app", database_url, args.workers) as base:
        results.append(measure("fixed", base, "fixed_list", "/v1/models"))

    by = {(r.server, r.kind): r for r in results}
    fixed = by[("fixed", "fixed_list")].requests_per_s
    print("\nratios (ours / reference, same run)")
    for kind in kinds:
        ours = by[("ours", kind)].requests_per_s
        baseline = by.get(("baseline", kind))
        vs_base = f"{ours / baseline.requests_per_s:5.2f}x baseline" if baseline else " " * 16
        print(f"  {kind:14} {vs_base}   {ours / fixed:5.2f}x fixed")

    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "when": stamp,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "database": re.sub(r"//[^@/]*@", "//", database_url),
        "load": load | {"workers": args.workers},
        "results": [asdict(r) for r in results],
    }
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
