"""Query parameters validated as one model: documented, checked and answered as before."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Query
from fastapi.testclient import TestClient

from app.ai_models.router import MODEL_LIST
from app.query_params import QueryParams

LISTS = [
    "/v1/models",
    "/v1/organizations",
    "/v1/chips",
    "/v1/chip-support",
    "/v1/investments",
    "/v1/documents",
    "/v1/organizations/{id}/models",
    "/v1/organizations/{id}/investments",
    "/v1/models/{id}/chip-support",
]


def _query_parameters(client: TestClient, path: str) -> dict[str, dict[str, Any]]:
    operation = client.get("/openapi.json").json()["paths"][path]["get"]
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


@pytest.mark.parametrize("path", LISTS)
def test_every_list_documents_its_parameters(client: TestClient, path: str) -> None:
    documented = _query_parameters(client, path)
    for name in ("limit", "cursor", "sort", "as_of", "format"):
        assert name in documented, f"{path} does not document {name}"
    assert documented["limit"]["schema"]["maximum"] == 500
    assert all(p["required"] is False for p in documented.values())


def test_documented_parameters_are_the_validated_ones(client: TestClient) -> None:
    documented = _query_parameters(client, "/v1/models")
    assert set(documented) == set(MODEL_LIST.model.model_fields)
    assert documented["developer_id"]["description"]
    assert "pattern" in str(documented["sort"]["schema"])


def test_every_invalid_parameter_is_named_at_once(client: TestClient) -> None:
    response = client.get("/v1/models?limit=0&sort=nope&open_weights=maybe&format=xml")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    named = {tuple(err["loc"]) for err in response.json()["errors"]}
    assert named == {
        ("query", "limit"),
        ("query", "sort"),
        ("query", "open_weights"),
        ("query", "format"),
    }


def test_values_reach_the_query(client: TestClient) -> None:
    everything = client.get("/v1/models?limit=500").json()["data"]
    open_ones = client.get("/v1/models?open_weights=true&limit=2&sort=-name").json()
    expected = sorted((m for m in everything if m["open_weights"]), key=lambda m: m["name"])
    assert [m["id"] for m in open_ones["data"]] == [m["id"] for m in expected[::-1][:2]]
    assert open_ones["next_cursor"]


def test_the_last_of_a_repeated_parameter_wins(client: TestClient) -> None:
    response = client.get("/v1/models?limit=0&limit=1")
    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    assert client.get("/v1/models?colour=blue&limit=1").status_code == 200


def test_a_parameter_declared_twice_is_refused() -> None:
    async def first(limit: Annotated[int, Query()] = 1) -> int:
        return limit

    async def second(limit: Annotated[int, Query()] = 2) -> int:
        return limit

    with pytest.raises(ValueError, match="'limit' declared twice"):
        QueryParams("Twice", dict, a=first, b=second)


def test_one_statement_serves_every_value_of_a_shape(client: TestClient) -> None:
    """Requests with the same filters set share one statement: each gets its own values."""
    everything = client.get("/v1/models?limit=500").json()["data"]
    for bound in (1, 32_000_000_000, 10**15, 0):
        response = client.get(f"/v1/models?parameters_gte={bound}&limit=500")
        assert response.status_code == 200, response.text
        expected = {m["id"] for m in everything if (m["parameters"] or -1) >= bound}
        assert {m["id"] for m in response.json()["data"]} == expected
    for developers in ("deepseek", "openai,moonshot-ai", "nobody"):
        response = client.get(f"/v1/models?developer_id={developers}&limit=500")
        wanted = set(developers.split(","))
        expected = {m["id"] for m in everything if m["developer_id"] in wanted}
        assert {m["id"] for m in response.json()["data"]} == expected
