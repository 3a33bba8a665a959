"""Prometheus metrics at /metrics: requests and latency per route template and status, the
database pool, the build.

Each app has its own registry (tests build many apps in one process). With several uvicorn
workers a scrape sees the one worker that answered it: scale with replicas of one worker each
when the numbers matter.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Info,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as instruments
from starlette.responses import Response

from app import __version__

METRICS_PATH = "/metrics"
# Seconds; the API's answers take milliseconds, the statement timeout caps them at seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PoolCollector(Collector):
    """The engine's connection pool, read at scrape time (the engine lives in app.state)."""

    _GAUGES = (
        ("aifacts_db_pool_size", "size", "Connections the pool keeps open."),
        ("aifacts_db_pool_checked_out", "checkedout", "Connections in use by requests."),
        ("aifacts_db_pool_checked_in", "checkedin", "Idle connections in the pool."),
    )

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        engine = getattr(self.app.state, "engine", None)
        if engine is None:
            return
        for name, method, doc in self._GAUGES:
            # Only queue pools count connections; other pool classes lack these methods.
            read = getattr(engine.pool, method, None)
            if callable(read):
                yield GaugeMetricFamily(name, doc, value=float(read()))


def install_metrics(app: FastAPI) -> None:
    # The *_created series double the output and no dashboard reads them (process-wide switch).
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    Info("aifacts_build", "The running build.", registry=registry).info(
        {"version": __version__, "python": platform.python_version()}
    )
    registry.register(PoolCollector(app))

    instrumentator = Instrumentator(
        should_group_status_codes=False,
        # Paths that match no route share one label value, so scanners cannot grow the series.
        should_group_untemplated=True,
        excluded_handlers=[f"^{METRICS_PATH}$"],
        registry=registry,
    )
    instrumentator.add(
        instruments.requests(registry=registry),
        instruments.latency(buckets=LATENCY_BUCKETS, registry=registry),
    )
    instrumentator.instrument(app)

    # Not in the OpenAPI document: it is for the scraper, and it is not JSON.
    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
