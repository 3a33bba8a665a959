"""Expansions, field selection, richer filters and streamed exports of every list."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.seeding.loader import SEED_DIR

LISTS = [
    "/v1/organizations",
    "/v1/models",
    "/v1/chips",
    "/v1/chip-support",
    "/v1/investments",
    "/v1/documents",
]


def _seed(name: str) -> list[dict[str, Any]]:
    path = Path(SEED_DIR) / "facts" / f"{name}.yaml"
    facts: list[dict[str, Any]] = yaml.safe_load(path.read_text("utf-8"))[name]
    return facts


def _ids(client: TestClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_include_developer_embeds_the_organization(client: TestClient) -> None:
    body = client.get("/v1/models?include=developer&limit=500").json()
    organizations = {o["id"]: o for o in client.get("/v1/organizations?limit=500").json()["data"]}
    for model in body["data"]:
        if model["developer_id"] is None:
            assert model["developer"] is None
        else:
            assert model["developer"] == organizations[model["developer_id"]]


def test_include_on_chip_support_embeds_model_chip_and_vendor(client: TestClient) -> None:
    body = client.get("/v1/chip-support?include=model,chip,vendor&limit=500").json()
    assert body["data"]
    for item in body["data"]:
        assert item["model"]["id"] == item["model_id"]
        assert (item["chip"] or {}).get("id") == item["chip_id"]
        assert (item["vendor"] or {}).get("id") == item["vendor_id"]


def test_include_investors_and_recipient(client: TestClient) -> None:
    item = client.get("/v1/investments/deepseek-annual-budget?include=recipient").json()
    assert item["recipient"]["id"] == "deepseek"
    stargate = client.get("/v1/investments/stargate-500b?include=investors").json()
    embedded = {i["organization_id"]: i["organization"]["name"] for i in stargate["investors"]}
    assert embedded["mgx"] == "MGX"
    assert set(embedded) == {i["organization_id"] for i in _investors("stargate-500b")}


def _investors(investment_id: str) -> list[dict[str, str]]:
    fact = next(f for f in _seed("investments") if f["id"] == investment_id)
    investors: list[dict[str, str]] = fact["investors"]
    return investors


def test_include_documents_lists_the_cited_documents(client: TestClient) -> None:
    item = client.get("/v1/models/deepseek-r1?include=documents").json()
    cited = {c["document_id"] for c in item["citations"]}
    assert {d["id"] for d in item["documents"]} == cited
    assert all("text" not in d for d in item["documents"])


def test_fields_returns_only_the_named_fields_and_id(client: TestClient) -> None:
    body = client.get("/v1/models?fields=name,parameters&limit=500").json()
    assert body["data"]
    assert all(set(item) == {"id", "name", "parameters"} for item in body["data"])
    item = client.get("/v1/organizations/deepseek?fields=city").json()
    assert item == {"id": "deepseek", "city": "Hangzhou", "citations": item["citations"]}


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/v1/models?include=bogus", "include"),
        ("/v1/models?fields=nope", "fields"),
        ("/v1/organizations?include=developer", "include"),
        ("/v1/chips?fields=name,parameters", "fields"),
    ],
)
def test_unknown_include_or_field_is_422_naming_it(
    client: TestClient, url: str, param: str
) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", param]


def test_multi_value_filters(client: TestClient) -> None:
    organizations = _seed("organizations")
    expected = sorted(o["id"] for o in organizations if o.get("country") in {"CN", "AE"})
    assert sorted(_ids(client, "/v1/organizations?country=CN,AE&limit=500")) == expected
    kinds = {"lab", "university"}
    expected = sorted(o["id"] for o in organizations if o["kind"] in kinds)
    assert sorted(_ids(client, "/v1/organizations?kind=lab,university&limit=500")) == expected


def test_developer_country(client: TestClient) -> None:
    countries = {o["id"]: o.get("country") for o in _seed("organizations")}
    expected = sorted(
        m["id"] for m in _seed("models") if countries.get(m.get("developer_id") or "") == "CN"
    )
    assert expected
    assert sorted(_ids(client, "/v1/models?developer_country=CN&limit=500")) == expected


@pytest.mark.parametrize("flag", [True, False])
def test_null_tests(client: TestClient, flag: bool) -> None:
    expected = sorted(m["id"] for m in _seed("models") if (m.get("parameters") is None) == flag)
    url = f"/v1/models?parameters_null={str(flag).lower()}&limit=500"
    assert sorted(_ids(client, url)) == expected


def test_ranges(client: TestClient) -> None:
    models = _seed("models")
    expected = sorted(
        m["id"] for m in models if m.get("parameters") and 30e9 <= m["parameters"] <= 700e9
    )
    url = "/v1/models?parameters_gte=30000000000&parameters_lte=700000000000&limit=500"
    assert sorted(_ids(client, url)) == expected
    # An empty range is an empty answer, not an error.
    url = "/v1/models?parameters_gte=700000000000&parameters_lte=30000000000"
    assert _ids(client, url) == []


@pytest.mark.parametrize("as_of", ["2025-01-20", "2025-01-21", "2025-02-01", "2030-01-01"])
def test_as_of_keeps_what_was_announced_by_then(client: TestClient, as_of: str) -> None:
    for name, path in (("investments", "investments"), ("chip_support", "chip-support")):
        expected = sorted(
            f["id"]
            for f in _seed(name)
            if f.get("announced_on") is not None and str(f["announced_on"]) <= as_of
        )
        assert sorted(_ids(client, f"/v1/{path}?as_of={as_of}&limit=500")) == expected


def test_disputed_filter(client: TestClient) -> None:
    disputed = sorted(
        f["id"]
        for f in _seed("investments")
        if any(c.get("stance") == "dispute" for c in f["citations"])
    )
    assert disputed
    assert sorted(_ids(client, "/v1/investments?disputed=true&limit=500")) == disputed


@pytest.mark.parametrize("path", LISTS)
def test_csv_export_is_the_whole_filtered_result(client: TestClient, path: str) -> None:
    pages = client.get(f"{path}?limit=500").json()["data"]
    response = client.get(f"{path}?limit=1", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # Not one page (limit=1): every item, in the list's order.
    assert [row["id"] for row in rows] == [item["id"] for item in pages]
    assert "citations" not in (rows[0] if rows else {})


def test_csv_flattens_lists(client: TestClient) -> None:
    response = client.get("/v1/investments?format=csv&q=stargate")
    row = next(csv.DictReader(io.StringIO(response.text)))
    expected = "|".join(f"{i['organization_id']}:{i['role']}" for i in _investors("stargate-500b"))
    assert row["investors"] == expected
    models = client.get("/v1/models?format=csv&q=deepseek").text
    row = next(csv.DictReader(io.StringIO(models)))
    assert row["aliases"].split("|") == next(
        m["aliases"] for m in _seed("models") if m["id"] == "deepseek-r1"
    )


@pytest.mark.parametrize("path", LISTS)
def test_ndjson_export(client: TestClient, path: str) -> None:
    expected = client.get(f"{path}?limit=500").json()["data"]
    response = client.get(path, headers={"Accept": "application/x-ndjson"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines == expected


def test_export_with_citations_when_asked(client: TestClient) -> None:
    response = client.get("/v1/chips?format=ndjson&include=citations")
    assert all(line["citations"] for line in map(json.loads, response.text.splitlines()))
    rows = list(
        csv.DictReader(io.StringIO(client.get("/v1/chips?format=csv&include=citations").text))
    )
    assert all(json.loads(row["citations"]) for row in rows)


def test_export_of_a_bad_query_is_still_a_problem(client: TestClient) -> None:
    response = client.get("/v1/models?format=csv&sort=bogus")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
