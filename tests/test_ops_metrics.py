"""/metrics: Prometheus text with request counts and latency per route template and status,
the connection pool and the build."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from prometheus_client.parser import text_string_to_metric_families

from app import __version__
from app.config import Settings
from app.main import create_app


def scrape(client: TestClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def test_request_counter_counts_per_route_template_and_status(client: TestClient) -> None:
    labels = {"handler": "/v1/models/{id}", "method": "GET", "status": "200"}
    before = value(scrape(client), "http_requests_total", **labels)
    for _ in range(3):
        assert client.get("/v1/models/deepseek-r1").status_code == 200
    after = scrape(client)
    assert value(after, "http_requests_total", **labels) == before + 3
    # the template, never the id: one series however many ids are asked for
    assert not [s for s, _ in after["http_requests_total"] if "deepseek" in s["handler"]]


def test_errors_are_counted_under_their_status(client: TestClient) -> None:
    labels = {"handler": "/v1/models/{id}", "method": "GET", "status": "404"}
    before = value(scrape(client), "http_requests_total", **labels)
    assert client.get("/v1/models/no-such-model").status_code == 404
    assert value(scrape(client), "http_requests_total", **labels) == before + 1


def test_head_is_counted_as_head_under_its_route(client: TestClient) -> None:
    # answered as its GET (app.ops.edge), but measured as the HEAD it was, by route template
    labels = {"handler": "/v1/models/{id}", "method": "HEAD", "status": "200"}
    before = value(scrape(client), "http_requests_total", **labels)
    assert client.head("/v1/models/deepseek-r1").status_code == 200
    assert value(scrape(client), "http_requests_total", **labels) == before + 1


def test_latency_histogram_per_route_and_status(client: TestClient) -> None:
    assert client.get("/v1/organizations", params={"limit": 2}).status_code == 200
    samples = scrape(client)
    labels = {"handler": "/v1/organizations", "method": "GET", "status": "200"}
    count = value(samples, "http_request_duration_seconds_count", **labels)
    assert count >= 1
    assert value(samples, "http_request_duration_seconds_bucket", le="+Inf", **labels) == count
    assert value(samples, "http_request_duration_seconds_sum", **labels) > 0


def test_unmatched_paths_share_one_series(client: TestClient) -> None:
    for path in ("/nope-1", "/nope-2", "/wp-login.php"):
        assert client.get(path).status_code == 404
    handlers = {s["handler"] for s, _ in scrape(client)["http_requests_total"]}
    assert not {"/nope-1", "/nope-2", "/wp-login.php"} & handlers
    assert "none" in handlers


def test_pool_gauges_and_build_info(client: TestClient) -> None:
    samples = scrape(client)
    on_loop = client.app.state.loop_engine  # type: ignore[attr-defined]
    pools = {"blocking", *(["loop"] if on_loop else [])}
    for pool in pools:
        assert value(samples, "aifacts_db_pool_size", pool=pool) >= 1, pool
        assert value(samples, "aifacts_db_pool_checked_out", pool=pool) == 0  # none held now
    assert {labels["pool"] for labels, _ in samples["aifacts_db_pool_checked_in"]} == pools
    assert value(samples, "aifacts_build_info", version=__version__) == 1


def test_metrics_stay_out_of_the_api_document(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    # and the scrapes themselves are not counted
    scrape(client)
    handlers = {s["handler"] for s, _ in scrape(client).get("http_requests_total", [])}
    assert "/metrics" not in handlers


class _RecordingTracerProvider(trace.TracerProvider):
    """A configured provider (not one of the API's deferred ones) that counts its spans."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        provider = self

        class Tracer(trace.NoOpTracer):
            def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
                provider.started.append(name)
                return trace.INVALID_SPAN

        return Tracer()


@pytest.mark.parametrize("enabled", [False, True])
def test_opentelemetry_spans_only_when_enabled(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    provider = _RecordingTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    settings = Settings(database_url=seeded_url, opentelemetry=enabled)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/models/deepseek-r1").status_code == 200
    assert bool(provider.started) is enabled
