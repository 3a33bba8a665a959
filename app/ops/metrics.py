"""Prometheus metrics at /metrics: requests and latency per route template and status, the
database pool, the build.

Each app has its own registry (tests build many apps in one process). With several uvicorn
workers a scrape sees the one worker that answered it: scale with replicas of one worker each
when the numbers matter.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response

from app import __version__

METRICS_PATH = "/metrics"
# Seconds; the API's answers take milliseconds, the statement timeout caps them at seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PoolCollector(Collector):
    """The connection pools, read at scrape time (the engines live in app.state), by `pool`:
    `blocking` (writes and worker threads; every read on SQLite) and, on PostgreSQL, `loop`
    (the reads on the event loop)."""

    _GAUGES = (
        ("aifacts_db_pool_size", "size", "Connections the pool keeps open."),
        ("aifacts_db_pool_checked_out", "checkedout", "Connections in use by requests."),
        ("aifacts_db_pool_checked_in", "checkedin", "Idle connections in the pool."),
    )

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        state = self.app.state
        pools = {
            label: engine.pool
            for label, engine in (
                ("blocking", getattr(state, "engine", None)),
                ("loop", getattr(state, "loop_engine", None)),
            )
            if engine is not None
        }
        for name, method, doc in self._GAUGES:
            gauge = GaugeMetricFamily(name, doc, labels=["pool"])
            for label, pool in pools.items():
                # Only queue pools count connections; other pool classes lack these methods.
                read = getattr(pool, method, None)
                if callable(read):
                    gauge.add_metric([label], float(read()))
            if gauge.samples:
                yield gauge


class RequestMetrics:
    """Requests and latency per route template, method and status (`app.ops.edge` measures
    each request but the scrapes of /metrics)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("method", "status", "handler")
        self.requests = Counter("http_requests", "Requests answered.", labels, registry=registry)
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Seconds from the request to the start of the answer.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # Bounded: methods, statuses and route templates (unmatched paths are "none", so
        # scanners cannot grow the series).
        self._series: dict[tuple[str, int, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, status: int, route: Any, seconds: float) -> None:
        """One request, answered by `route` (the router's match, or None)."""
        # By the route's identity (routes do not hash); they live as long as the app.
        key = (method, status, id(route))
        series = self._series.get(key)
        if series is None:
            handler = getattr(route, "path_format", None) or getattr(route, "path", None)
            series = self._series[key] = self._new_series(method, status, handler or "none")
        series[0].inc()
        series[1].observe(seconds)

    def _new_series(self, method: str, status: int, handler: str) -> tuple[Counter, Histogram]:
        # `labels()` validates and locks on every call; a series, once made, is kept here.
        labels = (method, str(status), handler)
        return self.requests.labels(*labels), self.latency.labels(*labels)


class ResponseCacheCollector(Collector):
    """The response cache's counters, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        stats = getattr(self.app.state, "response_cache_stats", None)
        if stats is None:
            return
        answers = CounterMetricFamily(
            "aifacts_response_cache_requests",
            "GET requests by what the response cache did with them.",
            labels=["result"],
        )
        for result in ("hits", "not_modified", "misses", "bypassed"):
            answers.add_metric([result], float(getattr(stats, result)))
        yield answers
        yield GaugeMetricFamily(
            "aifacts_response_cache_entries", "Answers kept.", value=float(stats.entries)
        )
        yield GaugeMetricFamily(
            "aifacts_response_cache_bytes", "Bytes kept.", value=float(stats.bytes)
        )


def install_metrics(app: FastAPI) -> RequestMetrics:
    """The app's registry and its /metrics route; the requests' metrics to be observed."""
    # The *_created series double the output and no dashboard reads them (process-wide switch).
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    Info("aifacts_build", "The running build.", registry=registry).info(
        {"version": __version__, "python": platform.python_version()}
    )
    registry.register(PoolCollector(app))
    registry.register(ResponseCacheCollector(app))

    measured = RequestMetrics(registry)

    # Not in the OpenAPI document: it is for the scraper, and it is not JSON.
    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return measured
